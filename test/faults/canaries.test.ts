import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localEvents } from '../../lambdas/core/events';
import { emailSha256, maskEmail } from '../../lambdas/core/privacy';
import { stepLogger } from '../../lambdas/middleware';
import {
  CANARY_CLIENT,
  CANARY_EMAIL,
  CANARY_MARKER,
  CANARY_SECRET,
  canaryEmail,
  canarySeed,
  LeakScanner,
} from '../support/canaries';

/** The leak scanner itself: it must find every form of a canary, and nothing that is not one. */

describe('leak canaries', () => {
  const basic = (id: string, secret: string) => Buffer.from(`${id}:${secret}`).toString('base64');

  it.each([
    ['the email', CANARY_EMAIL],
    ['the email upper-cased', CANARY_EMAIL.toUpperCase()],
    ['the email URL-encoded', encodeURIComponent(CANARY_EMAIL)],
    ['the email URL-encoded, upper-cased', encodeURIComponent(CANARY_EMAIL).toUpperCase()],
    ['a canary local part alone', 'zqcanary.c3r7'],
    ['a canary contact name', 'firstName":"Zqcanary'],
    ['the secret', CANARY_SECRET],
    ['the secret lower-cased', CANARY_SECRET.toLowerCase()],
    ['the secret URL-encoded', encodeURIComponent(CANARY_SECRET)],
    ['the Basic credentials', basic(CANARY_CLIENT.clientId, CANARY_SECRET)],
    ['a watched subject', 'Jane.Doe@Example.com'],
  ])('finds %s', (_, form) => {
    const scanner = new LeakScanner({ watch: ['jane.doe@example.com'] });
    scanner.scan('log', `{"message":"x","v":"…${form}…"}`);
    expect(scanner.hits.length).toBeGreaterThan(0);
    expect(() => scanner.assertClean()).toThrow(/hit/);
  });

  it('finds nothing in what the connector may show: ids, hashes, the masked email, other secrets', () => {
    const scanner = new LeakScanner({ watch: ['jane.doe@example.com', 'x'] });
    scanner.scan('log', {
      requestId: randomUUID(),
      emailSha256: emailSha256(CANARY_EMAIL),
      maskedEmail: maskEmail(CANARY_EMAIL),
      clientId: CANARY_CLIENT.clientId,
      other: 'someone@example.com',
    });
    expect(scanner.hits).toEqual([]);
    expect(scanner.scanned).toEqual({ log: 1 });
  });

  it('captures the step logger (Powertools) and the connector events', async () => {
    const scanner = new LeakScanner();
    const stop = scanner.captureOutput();
    const unsubscribe = scanner.subscribeEvents();
    try {
      stepLogger.debug('a careless line', { token: CANARY_SECRET });
      await localEvents.publish({
        detailType: 'Privacy Request Failed',
        detail: { requestId: randomUUID(), type: 'access', status: 'FAILED', errorCode: CANARY_MARKER },
      });
    } finally {
      unsubscribe();
      stop();
    }
    expect(scanner.hits.map((h) => [h.source, h.what])).toEqual([
      ['log', `canary marker ${CANARY_MARKER}`],
      ['log', 'canary client secret'],
      ['event', `canary marker ${CANARY_MARKER}`],
    ]);
  });

  it('seeds each canary subject as two contacts and two survey responses', () => {
    const subjects = [canaryEmail('a1'), canaryEmail('b2')];
    const seed = canarySeed(subjects);
    for (const email of subjects) {
      const contacts = seed.directories
        .flatMap((d) => d.contacts)
        .filter((c) => c.email.toLowerCase() === email);
      expect(contacts).toHaveLength(2);
      expect(new Set(contacts.map((c) => c.contactId)).size).toBe(2);
      expect(seed.responses.filter((r) => r.email === email)).toHaveLength(2);
    }
    expect(() => canaryEmail('Not Valid')).toThrow();
  });
});
