import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CONNECTION_CHECK_METRIC,
  handler,
  runConnectionCheck,
} from '../../lambdas/handlers/connection-check';
import { SIMULATOR_CLIENT } from '../../local/simulator';
import { capturingStdout } from '../support/stdout';
import { type ApiWorld, startApiWorld } from './harness';

// Outside Lambda the handlers log nothing unless asked: ask, so the log scans below see their lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

/** The scheduled connection check against the simulator, through the shared rate limiter. */

let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
});
afterAll(() => w?.close());

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  ConnectionCheckFailed: number;
}

/** The EMF documents among stdout's lines (the logger may write its own lines there too). */
const emfLines = (out: string) => out.split('\n').filter((l) => l.includes('"CloudWatchMetrics"'));

async function check() {
  const { value: result, out } = await capturingStdout(() => runConnectionCheck());
  const lines = emfLines(out);
  expect(lines).toHaveLength(1);
  return { result, metric: JSON.parse(lines[0]!) as Emf };
}

describe('connection check', () => {
  it('passes against the simulator and emits ConnectionCheckFailed = 0 in EMF', async () => {
    const { result, metric } = await check();
    expect(result).toMatchObject({ ok: true, report: { ok: true, scopes: { missing: [] } } });
    expect(metric._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'QualtricsDsr',
        Dimensions: [[]],
        Metrics: [{ Name: 'ConnectionCheckFailed', Unit: 'Count' }],
      },
    ]);
    expect(metric[CONNECTION_CHECK_METRIC.name]).toBe(0);
    expect(typeof metric._aws.Timestamp).toBe('number');
    // Nothing else: no `service` dimension, no metadata (a dimension would make it another metric).
    expect(Object.keys(metric).sort()).toEqual(['ConnectionCheckFailed', '_aws']);
  });

  it('fails with the reason and ConnectionCheckFailed = 1 when the secret is wrong, never showing it', async () => {
    const wrong = 'wrong-secret-canary-0815';
    w.setEnv({ QUALTRICS_CLIENT_SECRET: wrong });
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write);
    try {
      const { result, metric } = await check();
      expect(result).toMatchObject({ ok: false, error: { code: 'QUALTRICS_AUTH' } });
      expect(metric.ConnectionCheckFailed).toBe(1);
      expect(JSON.stringify(result)).not.toContain(wrong);
      expect(errors.join('')).toContain('connection check failed');
      expect(errors.join('')).not.toContain(wrong);
    } finally {
      spy.mockRestore();
      w.setEnv({ QUALTRICS_CLIENT_SECRET: SIMULATOR_CLIENT.clientSecret });
    }
  });

  it('names the setting when Qualtrics is not configured', async () => {
    w.setEnv({ QUALTRICS_BASE_URL: undefined });
    try {
      const { result, metric } = await check();
      expect(result).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
      expect((result as { error: { message: string } }).error.message).toMatch(/QUALTRICS_BASE_URL/);
      expect(metric.ConnectionCheckFailed).toBe(1);
    } finally {
      w.setEnv({ QUALTRICS_BASE_URL: w.sim.url });
    }
  });

  it('the scheduled handler writes the metric line to stdout', async () => {
    const { value: result, out } = await capturingStdout(() => handler({}, {} as never));
    expect(result.ok).toBe(true);
    const metricLines = emfLines(out);
    expect(metricLines).toHaveLength(1);
    expect((JSON.parse(metricLines[0]!) as Emf).ConnectionCheckFailed).toBe(0);
  });
});
