import { defaultSeed, type SeedContact, type SimulatorSeed } from '../../local/simulator/index';

/**
 * The simulator's built-in brand with `count` extra data subjects, one per benchmark request, so
 * no two requests of a batch touch the same person (an erasure would otherwise empty what a
 * concurrent access request of the same subject exports, and the per-subject counters would mix).
 *
 * Each subject looks like a typical seeded one: a contact in one directory, every third also in a
 * second directory, and every other one has a survey response (what the customer-data files carry).
 * Every address is under example.org (RFC 2606).
 */

export function benchSubject(i: number): string {
  return `bench.subject.${String(i).padStart(4, '0')}@example.org`;
}

export function seedWithSubjects(count: number): SimulatorSeed {
  const seed = defaultSeed();
  const template = seed.directories.flatMap((d) => d.contacts)[0] as SeedContact;
  const survey = seed.responses[0];
  if (!survey) throw new Error('the default seed has no survey response to copy');
  const dirs = seed.directories;
  for (let i = 0; i < count; i++) {
    const email = benchSubject(i);
    const homes = i % 3 === 0 ? [i % dirs.length, (i + 1) % dirs.length] : [i % dirs.length];
    for (const d of homes) {
      dirs[d]!.contacts.push({
        ...structuredClone(template),
        contactId: `CID_bench${String(i).padStart(4, '0')}d${d}`,
        firstName: 'Bench',
        lastName: `Subject${i}`,
        email,
        phone: `555-02${String(i % 100).padStart(2, '0')}-${String(1000 + i).slice(-4)}`,
        extRef: `BENCH-${String(i).padStart(5, '0')}`,
        mailingLists: [],
      });
    }
    if (i % 2 === 0) {
      seed.responses.push({
        ...structuredClone(survey),
        responseId: `R_bench${String(i).padStart(4, '0')}`,
        email,
      });
    }
  }
  return seed;
}
