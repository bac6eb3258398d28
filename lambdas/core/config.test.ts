import { describe, expect, it } from 'vitest';
import {
  assertQualtricsTarget,
  closestSetting,
  KNOWN_SETTINGS,
  qualtricsTarget,
  SIMULATOR_ORIGIN_ENV,
  unknownSettings,
} from './config';
import { ConfigError } from './errors';

describe('unknown settings', () => {
  it.each([
    ['QUALTRICS_DC', 'QUALTRICS_DATACENTER'],
    ['QUALTRICS_DATA_CENTER', 'QUALTRICS_DATACENTER'],
    ['QDSR_DATACENTER', 'QUALTRICS_DATACENTER'],
    ['QUALTRICS_BASEURL', 'QUALTRICS_BASE_URL'],
    ['QUALTRICS_URL', 'QUALTRICS_BASE_URL'],
    ['QUALTRICS_CLIENTID', 'QUALTRICS_CLIENT_ID'],
    ['QDSR_TARGET_UTILISATION', 'QDSR_TARGET_UTILIZATION'],
    ['QDSR_CONCURRENCY', 'QDSR_LOCAL_CONCURRENCY'],
    ['QDSR_TIMEOUT_MS', 'QDSR_QUALTRICS_TIMEOUT_MS'],
  ])('%s is closest to %s', (typo, meant) => {
    expect(closestSetting(typo)).toBe(meant);
  });

  it('lists only QUALTRICS_* and QDSR_* variables that are no known setting, each with the closest', () => {
    const env = {
      QUALTRICS_DC: 'iad1',
      QUALTRICS_CLIENT_ID: 'x',
      QDSR_WAIT_SCALE: '0.1',
      QDSR_TARGET_UTILISATION: '0.5',
      PATH: '/usr/bin',
      QUALTRICSDSR_OTHER: '1',
    };
    expect(unknownSettings(env)).toEqual([
      { name: 'QDSR_TARGET_UTILISATION', closest: 'QDSR_TARGET_UTILIZATION' },
      { name: 'QUALTRICS_DC', closest: 'QUALTRICS_DATACENTER' },
    ]);
    expect(unknownSettings(Object.fromEntries(KNOWN_SETTINGS.map((k) => [k, 'x'])))).toEqual([]);
  });
});

describe('credentials without a Qualtrics to send them to', () => {
  it('is a configuration error naming QUALTRICS_BASE_URL and QUALTRICS_DATACENTER', () => {
    for (const env of [
      { QUALTRICS_CLIENT_ID: 'id' },
      { QUALTRICS_CLIENT_SECRET: 's3cr3t-value' },
      { QUALTRICS_CLIENT_ID: 'id', QUALTRICS_CLIENT_SECRET: 's3cr3t-value', QUALTRICS_DC: 'iad1' },
    ]) {
      let thrown: unknown;
      try {
        assertQualtricsTarget(env);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toMatch(/QUALTRICS_BASE_URL.*QUALTRICS_DATACENTER/);
      expect((thrown as ConfigError).message).not.toContain('s3cr3t-value');
    }
  });

  it('is fine with a target, or with no credentials at all (the simulator)', () => {
    expect(() => assertQualtricsTarget({})).not.toThrow();
    expect(() =>
      assertQualtricsTarget({ QUALTRICS_CLIENT_ID: 'id', QUALTRICS_DATACENTER: 'iad1' }),
    ).not.toThrow();
    expect(() =>
      assertQualtricsTarget({
        QUALTRICS_CLIENT_SECRET: 's',
        QUALTRICS_BASE_URL: 'https://iad1.qualtrics.com',
      }),
    ).not.toThrow();
  });
});

describe('qualtricsTarget', () => {
  it('is "simulator" only for the origin the local runtime said is its simulator, else the origin', () => {
    const env = { [SIMULATOR_ORIGIN_ENV]: 'http://127.0.0.1:4010' };
    expect(qualtricsTarget('http://127.0.0.1:4010', env)).toBe('simulator');
    expect(qualtricsTarget('http://127.0.0.1:4011', env)).toBe('http://127.0.0.1:4011');
    expect(qualtricsTarget('https://iad1.qualtrics.com', {})).toBe('https://iad1.qualtrics.com');
    expect(unknownSettings(env)).toEqual([]);
  });
});
