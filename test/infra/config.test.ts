import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_KEYS,
  DEFAULT_SETTINGS,
  RENAMED_CONTEXT_KEYS,
  SettingsError,
  settingsFromContext,
} from '../../infra/config';
import { FUNCTION_ENV } from '../../infra/constructs/functions';
import { REPO_ROOT } from '../../infra/paths';
import { KNOWN_SETTINGS } from '../../lambdas/core/config';
import { synth } from './support';

const from = (context: Record<string, unknown>) => settingsFromContext((key) => context[key]);

describe('deployment settings from CDK context', () => {
  it('defaults every setting when no context is given', () => {
    expect(from({})).toEqual({
      datacenter: undefined,
      qualtricsSecretArn: undefined,
      targetUtilization: 0.75,
      retentionDays: 30,
      recordRetentionDays: 730,
      forgetEmailAfterDays: 30,
      defaultJurisdiction: 'gdpr',
      connectionCheckSchedule: 'rate(1 hour)',
      deletionDone: 'confirmed',
      alarmEmail: undefined,
      qualtricsConcurrency: 0,
    });
    expect(DEFAULT_SETTINGS.targetUtilization).toBe(0.75);
  });

  it('reads CLI strings and cdk.json values alike', () => {
    const cli = from({ targetUtilization: '0.5', retentionDays: '7', qualtricsConcurrency: '5' });
    const json = from({ targetUtilization: 0.5, retentionDays: 7, qualtricsConcurrency: 5 });
    expect(cli).toEqual(json);
    expect(cli.qualtricsConcurrency).toBe(5);
    expect(from({ datacenter: '  ', alarmEmail: '' })).toMatchObject({
      datacenter: undefined,
      alarmEmail: undefined,
    });
  });

  it('accepts datacenters, secrets, schedules and modes users will pass', () => {
    const s = from({
      datacenter: 'myorg.fra1',
      qualtricsSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:qualtrics/oauth-AbCdEf',
      connectionCheckSchedule: 'cron(0 6 * * ? *)',
      deletionDone: 'submitted',
      alarmEmail: 'privacy-ops@example.org',
    });
    expect(s.datacenter).toBe('myorg.fra1');
    expect(s.deletionDone).toBe('submitted');
    expect(from({ connectionCheckSchedule: 'rate(15 minutes)' }).connectionCheckSchedule).toBe(
      'rate(15 minutes)',
    );
  });

  it.each([
    [CONTEXT_KEYS.datacenter, 'https://iad1.qualtrics.com'],
    [CONTEXT_KEYS.qualtricsSecretArn, 'qualtrics-oauth'],
    [CONTEXT_KEYS.targetUtilization, '0'],
    [CONTEXT_KEYS.targetUtilization, '1.5'],
    [CONTEXT_KEYS.targetUtilization, 'most'],
    [CONTEXT_KEYS.retentionDays, '0'],
    [CONTEXT_KEYS.retentionDays, '2.5'],
    [CONTEXT_KEYS.recordRetentionDays, '0'],
    [CONTEXT_KEYS.recordRetentionDays, 'two years'],
    [CONTEXT_KEYS.forgetEmailAfterDays, '-30'],
    [CONTEXT_KEYS.defaultJurisdiction, 'eu'],
    [CONTEXT_KEYS.connectionCheckSchedule, 'hourly'],
    [CONTEXT_KEYS.connectionCheckSchedule, 'rate(1 fortnight)'],
    [CONTEXT_KEYS.deletionDone, 'verified'],
    [CONTEXT_KEYS.alarmEmail, 'ops'],
    [CONTEXT_KEYS.qualtricsConcurrency, '-1'],
  ])('rejects %s = %j, naming the key', (key, value) => {
    let error: unknown;
    try {
      from({ [key]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).key).toBe(key);
    expect((error as Error).message).toContain(`context "${key}"`);
  });
});

describe('renamed context keys', () => {
  const withWarnings = (context: Record<string, unknown>) => {
    const warnings: Array<{ message: string; oldKey: string }> = [];
    const settings = settingsFromContext(
      (key) => context[key],
      (message, oldKey) => warnings.push({ message, oldKey }),
    );
    return { settings, warnings };
  };

  it('still reads pollSchedule as the connection check schedule, with a deprecation warning', () => {
    expect(RENAMED_CONTEXT_KEYS).toEqual({ pollSchedule: CONTEXT_KEYS.connectionCheckSchedule });
    const { settings, warnings } = withWarnings({ pollSchedule: 'rate(15 minutes)' });
    expect(settings.connectionCheckSchedule).toBe('rate(15 minutes)');
    expect(warnings).toEqual([
      {
        oldKey: 'pollSchedule',
        message: 'context "pollSchedule" is deprecated: rename it to "connectionCheckSchedule"',
      },
    ]);
  });

  it('lets connectionCheckSchedule win when both are set, and says the old key is ignored', () => {
    const { settings, warnings } = withWarnings({
      pollSchedule: 'rate(15 minutes)',
      connectionCheckSchedule: 'rate(2 hours)',
    });
    expect(settings.connectionCheckSchedule).toBe('rate(2 hours)');
    expect(warnings.map((w) => w.message)).toEqual([
      'context "pollSchedule" is deprecated and ignored: "connectionCheckSchedule" is set',
    ]);
  });

  it('warns of nothing when only the new key is used, and names the old key when its value is wrong', () => {
    expect(withWarnings({ connectionCheckSchedule: 'rate(2 hours)' }).warnings).toEqual([]);
    expect(() => withWarnings({ pollSchedule: 'hourly' })).toThrow(
      expect.objectContaining({
        key: 'pollSchedule',
        message: expect.stringContaining('context "pollSchedule"'),
      }),
    );
  });

  it('turns the deprecation into a warning on the stack at synth, and schedules the check by the old key', () => {
    const s = synth({ pollSchedule: 'rate(15 minutes)' });
    Annotations.fromStack(s.stack).hasWarning(
      `/${s.stack.stackName}`,
      Match.stringLikeRegexp('context "pollSchedule" is deprecated: rename it to "connectionCheckSchedule"'),
    );
    s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });
});

describe('the one list of settings', () => {
  it('knows every variable the stack sets and every QDSR_/QUALTRICS_ variable README and docs/deploy.md name', () => {
    const known = new Set<string>(KNOWN_SETTINGS);
    for (const name of Object.values(FUNCTION_ENV)) {
      if (/^(QDSR|QUALTRICS)_/.test(name)) expect(known.has(name), name).toBe(true);
    }
    const docs = ['README.md', 'docs/deploy.md']
      .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    // The first cell of each table row: the Configuration table, the variables the stack sets.
    const firstCells = docs
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|')[1] ?? '');
    const named = new Set(firstCells.flatMap((c) => c.match(/(QDSR|QUALTRICS)_[A-Z0-9_]+/g) ?? []));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) expect(known.has(name), name).toBe(true);
  });
});
