import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiterTable, startDynalite, type TestDynalite } from '../../../test/support/dynalite';
import { DynamoJobDurations, durationLesson, EARLIER_AFTER_DONE_AT_FIRST_POLL } from './job-durations';

describe('durationLesson', () => {
  const base = { ageSeconds: 40, firstPoll: false, unscale: 1 };

  it("takes an ended job's duration from Qualtrics' own stamps, unscaled", () => {
    const stamps = { created: '2030-01-01T00:00:00.000Z', updated: '2030-01-01T00:00:07.500Z' };
    expect(durationLesson({ ...base, ended: true, ...stamps })).toBe(7.5);
    // A simulator at ×0.25: 7.5 real seconds are 30 simulated ones.
    expect(durationLesson({ ...base, ended: true, ...stamps, unscale: 4 })).toBe(30);
    // Unusable stamps: no lesson from them.
    expect(durationLesson({ ...base, ended: true, created: 'soon', updated: 'later' })).toBeUndefined();
    expect(
      durationLesson({ ...base, ended: true, created: stamps.updated, updated: stamps.created }),
    ).toBeUndefined();
  });

  it('projects the end of a job in progress from its percentComplete', () => {
    expect(durationLesson({ ...base, ageSeconds: 5, ended: false, percentComplete: 25 })).toBe(20);
    for (const p of [0, 100, -1, 150]) {
      expect(durationLesson({ ...base, ended: false, percentComplete: p })).toBeUndefined();
    }
    expect(durationLesson({ ...base, ended: false })).toBeUndefined();
  });

  it('aims earlier after a job found done at its first poll, and learns nothing from a later poll', () => {
    // Without a typical duration the first poll aimed at the growing schedule, and its age may be
    // mostly a queue (the limiter's, the engine's): it says nothing of the job.
    expect(durationLesson({ ...base, ended: true, firstPoll: true })).toBeUndefined();
    expect(durationLesson({ ...base, ended: true, firstPoll: true, typicalSeconds: 50 })).toBe(
      40 * EARLIER_AFTER_DONE_AT_FIRST_POLL,
    );
    expect(durationLesson({ ...base, ended: true, firstPoll: false })).toBeUndefined();
    // Aimed at a typical 20 s but waited for the limiter until 40 s: the lesson is about the
    // 21 s the poll aimed at, not the queue (else every queue would lengthen the next ones).
    expect(durationLesson({ ...base, ended: true, firstPoll: true, typicalSeconds: 20 })).toBeCloseTo(
      21 * EARLIER_AFTER_DONE_AT_FIRST_POLL,
    );
  });
});

describe('DynamoJobDurations (dynalite)', () => {
  let db: TestDynalite;
  const table = 'limiter-durations';
  beforeAll(async () => {
    db = await startDynalite();
    await createLimiterTable(db.client, table);
  });
  afterAll(async () => {
    await db.close();
  });

  it('keeps the latest lesson per tenant and kind of job', async () => {
    const doc = DynamoDBDocumentClient.from(db.client);
    const a = new DynamoJobDurations({ doc, tableName: table, tenant: 'iad1#a' });
    const b = new DynamoJobDurations({ doc, tableName: table, tenant: 'iad1#b' });
    expect(await a.typical('erasure')).toBeUndefined();
    await a.learn('erasure', 30);
    await a.learn('erasure', 31.25);
    await a.learn('customerData', 20);
    // Nonsense is not a lesson.
    await a.learn('customerData', Number.NaN);
    await a.learn('customerData', -3);
    expect(await a.typical('erasure')).toBe(31.25);
    expect(await a.typical('customerData')).toBe(20);
    expect(await b.typical('erasure')).toBeUndefined();
  });

  it('keeps a lower bound only while nothing was measured, and only ever raises it', async () => {
    const doc = DynamoDBDocumentClient.from(db.client);
    const d = new DynamoJobDurations({ doc, tableName: table, tenant: 'iad1#atleast' });
    await d.learnAtLeast('erasure', 15);
    expect(await d.typical('erasure')).toBe(15);
    await d.learnAtLeast('erasure', 12);
    expect(await d.typical('erasure')).toBe(15);
    await d.learnAtLeast('erasure', 18.5);
    expect(await d.typical('erasure')).toBe(18.5);
    // Measured: replaces the lower bound, whichever is larger, and no lower bound replaces it.
    await d.learn('erasure', 16);
    expect(await d.typical('erasure')).toBe(16);
    await d.learnAtLeast('erasure', 40);
    expect(await d.typical('erasure')).toBe(16);
    await d.learnAtLeast('customerData', Number.NaN);
    expect(await d.typical('customerData')).toBeUndefined();
  });

  it('fails soft: without DynamoDB there is no hint, and no error', async () => {
    const doc = DynamoDBDocumentClient.from(db.client);
    const missing = new DynamoJobDurations({ doc, tableName: 'no-such-table', tenant: 'iad1#a' });
    await expect(missing.learn('erasure', 30)).resolves.toBeUndefined();
    await expect(missing.learnAtLeast('erasure', 30)).resolves.toBeUndefined();
    await expect(missing.typical('erasure')).resolves.toBeUndefined();
  });
});
