import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../infra/config';
import { HANDLER_NAMES, HANDLERS } from '../../lambdas/catalog';
import { REQUESTS_TABLE_INDEXES, SUMMARY_ATTRIBUTES } from '../../lambdas/core/tables';
import { resourcesOfType, type Synth, synth } from './support';

/**
 * The ledger in the synthesized template: the requests table's indexes (the ones the local runtime
 * creates, from the same specs) and TTL, the record retention every writer is given (730 days by
 * default, the context's otherwise, with a warning below it), and the minimization the hourly sweep runs.
 */

let s: Synth;
beforeAll(() => {
  s = synth();
});

const requestsTable = (x: Synth) => x.json.Resources[x.id(x.stack.storage.requestsTable)]?.Properties ?? {};
const envOf = (x: Synth, name: (typeof HANDLER_NAMES)[number]) =>
  ((x.json.Resources[x.functionIds[name]]?.Properties?.Environment as { Variables?: Record<string, string> })
    ?.Variables ?? {}) as Record<string, string>;

describe('the requests table', () => {
  it('holds the four ledger indexes, sparse, projecting summaries (or keys) only', () => {
    const table = requestsTable(s);
    const gsis = table.GlobalSecondaryIndexes as Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string; KeyType: string }>;
      Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
    }>;
    expect(gsis.map((g) => g.IndexName)).toEqual([
      'byReceivedAt',
      'byStatus',
      'bySubject',
      'byEmailForgetAt',
    ]);
    const byName = Object.fromEntries(gsis.map((g) => [g.IndexName, g]));
    expect(byName.byReceivedAt?.KeySchema).toEqual([
      { AttributeName: 'ledgerPartition', KeyType: 'HASH' },
      { AttributeName: 'receivedAtKey', KeyType: 'RANGE' },
    ]);
    expect(byName.byStatus?.KeySchema).toEqual([
      { AttributeName: 'status', KeyType: 'HASH' },
      { AttributeName: 'receivedAtKey', KeyType: 'RANGE' },
    ]);
    expect(byName.bySubject?.KeySchema).toEqual([
      { AttributeName: 'subjectKey', KeyType: 'HASH' },
      { AttributeName: 'receivedAtKey', KeyType: 'RANGE' },
    ]);
    expect(byName.byEmailForgetAt).toMatchObject({
      KeySchema: [
        { AttributeName: 'forgetPartition', KeyType: 'HASH' },
        { AttributeName: 'forgetEmailAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    for (const name of ['byReceivedAt', 'byStatus', 'bySubject']) {
      const projected = byName[name]?.Projection;
      expect(projected?.ProjectionType, name).toBe('INCLUDE');
      // The raw email lives in the base item alone: forgetting it leaves no copy in an index.
      for (const never of ['email', 'evidence', 'timeline', 'extension', 'idempotencyKey']) {
        expect(projected?.NonKeyAttributes, name).not.toContain(never);
      }
      expect(new Set(projected?.NonKeyAttributes)).toEqual(
        new Set(SUMMARY_ATTRIBUTES.filter((a) => a !== (name === 'byStatus' ? 'status' : ''))),
      );
    }
    // DynamoDB's limit: 100 projected attributes across a table's indexes.
    const projectedCount = gsis.reduce((n, g) => n + (g.Projection.NonKeyAttributes?.length ?? 0), 0);
    expect(projectedCount).toBeLessThanOrEqual(100);
    expect(table.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        [
          'pk',
          'ledgerPartition',
          'receivedAtKey',
          'status',
          'subjectKey',
          'forgetPartition',
          'forgetEmailAt',
        ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      ),
    );
    expect(Object.keys(REQUESTS_TABLE_INDEXES)).toEqual(gsis.map((g) => g.IndexName));
  });

  it('expires records by TTL on expiresAt, and stays on-demand, encrypted and retained', () => {
    const table = requestsTable(s);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(s.json.Resources[s.id(s.stack.storage.requestsTable)]?.DeletionPolicy).toBe('Retain');
  });
});

describe('record retention', () => {
  const writers = HANDLER_NAMES.filter((n) =>
    (HANDLERS[n].resources as readonly string[]).includes('requestsTable:write'),
  );

  it('gives every function that writes records 730 days by default, and the minimization settings', () => {
    expect(writers.length).toBeGreaterThan(5);
    for (const name of writers) {
      expect(envOf(s, name), name).toMatchObject({
        QDSR_RECORD_RETENTION_DAYS: '730',
        QDSR_FORGET_EMAIL_AFTER_DAYS: '30',
        QDSR_DEFAULT_JURISDICTION: 'gdpr',
      });
    }
    for (const name of HANDLER_NAMES.filter((n) => !writers.includes(n))) {
      expect(envOf(s, name), name).not.toHaveProperty('QDSR_RECORD_RETENTION_DAYS');
    }
    expect(Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('7101'))).toEqual([]);
  });

  it('takes recordRetentionDays from context; shorter than 730 works, with a synth warning naming 11 CCR §7101', () => {
    const short = synth({
      recordRetentionDays: '365',
      forgetEmailAfterDays: 14,
      defaultJurisdiction: 'ccpa',
    });
    for (const name of writers) {
      expect(envOf(short, name), name).toMatchObject({
        QDSR_RECORD_RETENTION_DAYS: '365',
        QDSR_FORGET_EMAIL_AFTER_DAYS: '14',
        QDSR_DEFAULT_JURISDICTION: 'ccpa',
      });
    }
    Annotations.fromStack(short.stack).hasWarning(
      `/${short.stack.stackName}`,
      Match.stringLikeRegexp('context "recordRetentionDays" is 365 days: .*11 CCR §7101'),
    );
    const longer = synth({ recordRetentionDays: 1095 });
    expect(envOf(longer, 'api').QDSR_RECORD_RETENTION_DAYS).toBe('1095');
    expect(Annotations.fromStack(longer.stack).findWarning('*', Match.stringLikeRegexp('7101'))).toEqual([]);
  });
});

describe('minimization', () => {
  it("is the hourly sweep's (one schedule): its function may query the emails due, and no other schedule does it", () => {
    const rule = s.json.Resources[s.id(s.stack.events.sweepSchedule!)]?.Properties ?? {};
    expect(rule.ScheduleExpression).toBe('rate(1 hour)');
    const targets = rule.Targets as Array<{ Arn: unknown }>;
    expect(targets.map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': [s.functionIds.sweep, 'Arn'] }]);
    expect(HANDLERS.sweep.resources).toContain('requestsTable:queryEmailsDue');
    const schedules = resourcesOfType(s.json, 'AWS::Events::Rule').filter(([, r]) => r.ScheduleExpression);
    expect(schedules.map(([, r]) => r.ScheduleExpression).sort()).toEqual(
      [DEFAULT_SETTINGS.connectionCheckSchedule, 'rate(1 hour)'].sort(),
    );
  });
});
