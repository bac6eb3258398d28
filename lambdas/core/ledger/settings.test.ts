import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors';
import { defaultJurisdictionFromEnv } from './jurisdictions';
import { forgetEmailAfterDaysFromEnv, recordRetentionDaysFromEnv } from './retention';

describe('ledger settings', () => {
  it('QDSR_DEFAULT_JURISDICTION: gdpr unless set to a known jurisdiction', () => {
    expect(defaultJurisdictionFromEnv({})).toBe('gdpr');
    expect(defaultJurisdictionFromEnv({ QDSR_DEFAULT_JURISDICTION: ' ccpa ' })).toBe('ccpa');
    const err = (() => {
      try {
        defaultJurisdictionFromEnv({ QDSR_DEFAULT_JURISDICTION: 'eu' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ setting: 'QDSR_DEFAULT_JURISDICTION' });
    expect((err as Error).message).toBe(
      'QDSR_DEFAULT_JURISDICTION must be one of gdpr, uk-gdpr, ccpa, us-state',
    );
  });

  it('QDSR_RECORD_RETENTION_DAYS: 730 by default; shorter works but warns naming 11 CCR §7101', () => {
    expect(recordRetentionDaysFromEnv({})).toEqual({ days: 730 });
    expect(recordRetentionDaysFromEnv({ QDSR_RECORD_RETENTION_DAYS: '1095' })).toEqual({ days: 1095 });
    const short = recordRetentionDaysFromEnv({ QDSR_RECORD_RETENTION_DAYS: '365' });
    expect(short.days).toBe(365);
    expect(short.warning).toContain('11 CCR §7101');
    expect(short.warning).toContain('QDSR_RECORD_RETENTION_DAYS is 365 days');
    for (const bad of ['0', '-1', '1.5', 'two years']) {
      expect(() => recordRetentionDaysFromEnv({ QDSR_RECORD_RETENTION_DAYS: bad }), bad).toThrow(
        /^QDSR_RECORD_RETENTION_DAYS must be a whole number of days ≥ 1$/,
      );
    }
  });

  it('QDSR_FORGET_EMAIL_AFTER_DAYS: 30 by default', () => {
    expect(forgetEmailAfterDaysFromEnv({})).toBe(30);
    expect(forgetEmailAfterDaysFromEnv({ QDSR_FORGET_EMAIL_AFTER_DAYS: '7' })).toBe(7);
    expect(() => forgetEmailAfterDaysFromEnv({ QDSR_FORGET_EMAIL_AFTER_DAYS: '0' })).toThrow(ConfigError);
  });
});
