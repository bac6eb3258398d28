import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeSectionOf, spliceReadmeSection } from './lib/readme';
import { LIMITER_README_HEADING } from './limiter';

/**
 * `npm run bench:limiter` compares the shared limiter with the one a user would pick instead
 * (rate-limiter-flexible's RateLimiterDynamo) and the naive way, and writes the README's "Rate
 * limiting" section from what it measured. The committed results hold all three, and the README
 * says what they say.
 */

const results = join(__dirname, 'results');
const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const stored = JSON.parse(readFileSync(join(results, 'limiter.json'), 'utf8')) as {
  settings: { workerCounts: number[]; dynamoLimiter: { library: string } };
  rows: Array<{ mode: string; workers: number; maxWindowRatio: number; ddbWritesPerAdmit: number | null }>;
};

describe('the bench:limiter results', () => {
  it('measure gcra, RateLimiterDynamo and the naive way at every worker count', () => {
    expect(stored.settings.dynamoLimiter.library).toMatch(
      /^rate-limiter-flexible \d+\.\d+\.\d+, RateLimiterDynamo$/,
    );
    for (const workers of stored.settings.workerCounts) {
      const modes = stored.rows.filter((r) => r.workers === workers).map((r) => r.mode);
      expect(modes.sort()).toEqual(['dynamo', 'gcra', 'naive']);
    }
    for (const row of stored.rows.filter((r) => r.mode !== 'naive')) {
      expect(row.maxWindowRatio).toBeGreaterThan(0);
      expect(row.ddbWritesPerAdmit).toBeGreaterThan(0);
    }
  });

  it('are what the README "Rate limiting" section says (the section the benchmark wrote)', () => {
    const section = readFileSync(join(results, 'limiter-readme-section.md'), 'utf8');
    expect(section.startsWith(`${LIMITER_README_HEADING}\n`)).toBe(true);
    expect(section).toContain('RateLimiterDynamo');
    expect(readmeSectionOf(readme, LIMITER_README_HEADING)).toBe(`${section.trimEnd()}\n`);
    expect(spliceReadmeSection(readme, LIMITER_README_HEADING, section)).toBe(readme);
  });
});
