import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, DEFAULT_SETTINGS, SettingsError, settingsFromContext } from '../../infra/config';

const from = (context: Record<string, unknown>) => settingsFromContext((key) => context[key]);

describe('deployment settings from CDK context', () => {
  it('defaults every setting when no context is given', () => {
    expect(from({})).toEqual({
      datacenter: undefined,
      qualtricsSecretArn: undefined,
      targetUtilization: 0.75,
      retentionDays: 30,
      pollSchedule: 'rate(1 hour)',
      deletionDone: 'confirmed',
      alarmEmail: undefined,
      qualtricsConcurrency: 5,
    });
    expect(DEFAULT_SETTINGS.targetUtilization).toBe(0.75);
  });

  it('reads CLI strings and cdk.json values alike', () => {
    const cli = from({ targetUtilization: '0.5', retentionDays: '7', qualtricsConcurrency: '0' });
    const json = from({ targetUtilization: 0.5, retentionDays: 7, qualtricsConcurrency: 0 });
    expect(cli).toEqual(json);
    expect(cli.qualtricsConcurrency).toBe(0);
    expect(from({ datacenter: '  ', alarmEmail: '' })).toMatchObject({
      datacenter: undefined,
      alarmEmail: undefined,
    });
  });

  it('accepts datacenters, secrets, schedules and modes users will pass', () => {
    const s = from({
      datacenter: 'myorg.fra1',
      qualtricsSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:qualtrics/oauth-AbCdEf',
      pollSchedule: 'cron(0 6 * * ? *)',
      deletionDone: 'submitted',
      alarmEmail: 'privacy-ops@example.org',
    });
    expect(s.datacenter).toBe('myorg.fra1');
    expect(s.deletionDone).toBe('submitted');
    expect(from({ pollSchedule: 'rate(15 minutes)' }).pollSchedule).toBe('rate(15 minutes)');
  });

  it.each([
    [CONTEXT_KEYS.datacenter, 'https://iad1.qualtrics.com'],
    [CONTEXT_KEYS.qualtricsSecretArn, 'qualtrics-oauth'],
    [CONTEXT_KEYS.targetUtilization, '0'],
    [CONTEXT_KEYS.targetUtilization, '1.5'],
    [CONTEXT_KEYS.targetUtilization, 'most'],
    [CONTEXT_KEYS.retentionDays, '0'],
    [CONTEXT_KEYS.retentionDays, '2.5'],
    [CONTEXT_KEYS.pollSchedule, 'hourly'],
    [CONTEXT_KEYS.pollSchedule, 'rate(1 fortnight)'],
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
