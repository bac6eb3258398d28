import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { SIMULATOR_CLIENT, type Simulator, startSimulator } from '../../../local/simulator';
import { SECRET_PLACEHOLDERS } from '../config';
import { ConfigError, ErrorNames, ThrottledError } from '../errors';
import {
  deletionDoneFromEnv,
  limiterTenant,
  qualtricsSettings,
  qualtricsTimeoutMsFromEnv,
  resetWorkflowDeps,
  setWorkflowDeps,
  workflowDeps,
} from './deps';

describe('settings', () => {
  it('reads QDSR_DELETION_DONE (default confirmed)', () => {
    expect(deletionDoneFromEnv({})).toBe('confirmed');
    expect(deletionDoneFromEnv({ QDSR_DELETION_DONE: 'Submitted' })).toBe('submitted');
    expect(() => deletionDoneFromEnv({ QDSR_DELETION_DONE: 'soon' })).toThrow(ConfigError);
  });

  it('reads QDSR_QUALTRICS_TIMEOUT_MS (default: the client default)', () => {
    expect(qualtricsTimeoutMsFromEnv({})).toBeUndefined();
    expect(qualtricsTimeoutMsFromEnv({ QDSR_QUALTRICS_TIMEOUT_MS: ' 250 ' })).toBe(250);
    for (const bad of ['0', '-5', '1.5', 'soon'])
      expect(() => qualtricsTimeoutMsFromEnv({ QDSR_QUALTRICS_TIMEOUT_MS: bad })).toThrow(ConfigError);
  });

  it('keys the limiter by datacenter (or host) and OAuth client', () => {
    expect(
      limiterTenant({
        origin: 'https://fra1.qualtrics.com',
        datacenter: 'fra1',
        clientId: 'c1',
        clientSecret: 's',
      }),
    ).toBe('fra1#c1');
    expect(limiterTenant({ origin: 'http://127.0.0.1:4010', clientId: 'c2', clientSecret: 's' })).toBe(
      '127.0.0.1:4010#c2',
    );
  });
});

describe('qualtricsSettings from Secrets Manager', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());
  const env = (arn: string) => ({ QUALTRICS_SECRET_ARN: arn, AWS_REGION: 'us-east-1' });

  it('takes the OAuth client and datacenter from the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ clientId: 'cid', clientSecret: 'csecret', datacenter: 'iad1' }),
    });
    await expect(qualtricsSettings(env('arn:secret:ok'))).resolves.toEqual({
      origin: 'https://iad1.qualtrics.com',
      datacenter: 'iad1',
      clientId: 'cid',
      clientSecret: 'csecret',
    });
  });

  it('names the setting to fix when the secret is missing, unreadable or malformed, never quoting it', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ clientId: 'cid' }) });
    await expect(qualtricsSettings(env('arn:secret:malformed'))).rejects.toMatchObject({
      name: ErrorNames.Config,
      setting: 'QUALTRICS_SECRET_ARN',
    });

    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(
      // As the SDK throws it: a service answer, with its HTTP status.
      Object.assign(new Error('no access to arn:secret:denied'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(qualtricsSettings(env('arn:secret:denied'))).rejects.toMatchObject({
      name: ErrorNames.Config,
    });

    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'clientId=cid' });
    await expect(qualtricsSettings(env('arn:secret:not-json'))).rejects.toMatchObject({
      name: ErrorNames.Config,
      setting: 'QUALTRICS_SECRET_ARN',
    });

    secrets.reset();
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const failure = qualtricsSettings(env('arn:secret:throttled'));
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.Storage, retryable: true });
    await failure.catch((e: Error) =>
      expect(e.message).toBe('Secrets Manager unavailable (ThrottlingException)'),
    );
  });

  // The stack creates the secret with placeholders (docs/deploy.md, "Store the Qualtrics secret").
  const created = (datacenter: string = SECRET_PLACEHOLDERS.datacenter) => ({
    SecretString: JSON.stringify({
      clientId: SECRET_PLACEHOLDERS.clientId,
      clientSecret: 'r4nd0mGeneratedBySecretsManager',
      datacenter,
    }),
  });

  it('names the secret and its fields, never a QUALTRICS_* variable the user did not set', async () => {
    secrets.on(GetSecretValueCommand).resolves(created());
    const failure = qualtricsSettings(env('arn:secret:placeholders'));
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.Config, setting: 'QUALTRICS_SECRET_ARN' });
    await failure.catch((e: Error) => {
      expect(e.message).toContain('"clientId" and "datacenter"');
      expect(e.message).toContain('QUALTRICS_SECRET_ARN');
      expect(e.message).not.toContain('QUALTRICS_DATACENTER');
      expect(e.message).not.toContain('r4nd0m');
    });
  });

  it('names the secret\'s "datacenter" when it is not a datacenter id (the stack set no QUALTRICS_DATACENTER)', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ clientId: 'cid', clientSecret: 'csecret', datacenter: 'https://iad1' }),
    });
    const failure = qualtricsSettings(env('arn:secret:bad-dc'));
    await expect(failure).rejects.toMatchObject({ setting: 'QUALTRICS_SECRET_ARN' });
    await failure.catch((e: Error) => {
      expect(e.message).toMatch(/"datacenter" must be a datacenter id/);
      expect(e.message).not.toContain('QUALTRICS_DATACENTER');
    });
  });

  it('takes the datacenter the stack set (-c datacenter) over the placeholder', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        clientId: 'cid',
        clientSecret: 'csecret',
        datacenter: SECRET_PLACEHOLDERS.datacenter,
      }),
    });
    await expect(
      qualtricsSettings({ ...env('arn:secret:dc-from-stack'), QUALTRICS_DATACENTER: 'fra1' }),
    ).resolves.toMatchObject({ origin: 'https://fra1.qualtrics.com', clientId: 'cid' });
  });
});

describe('workflowDeps', () => {
  let aws: LocalAws;
  let sim: Simulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    aws = await startLocalAws();
    aws.applyEnv();
    sim = await startSimulator({ timeScale: 0.01 });
    Object.assign(process.env, {
      QUALTRICS_BASE_URL: sim.url,
      QUALTRICS_CLIENT_ID: SIMULATOR_CLIENT.clientId,
      QUALTRICS_CLIENT_SECRET: SIMULATOR_CLIENT.clientSecret,
      QDSR_WAIT_SCALE: '0.01',
    });
    resetWorkflowDeps();
  });
  afterAll(async () => {
    for (const k of [
      'QUALTRICS_BASE_URL',
      'QUALTRICS_CLIENT_ID',
      'QUALTRICS_CLIENT_SECRET',
      'QDSR_WAIT_SCALE',
      'QDSR_DELETION_DONE',
    ]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    resetWorkflowDeps();
    await sim?.close();
    await aws?.close();
  });

  it('is built once per process and rebuilt when its environment changes', () => {
    const first = workflowDeps();
    expect(workflowDeps()).toBe(first);
    expect(first.waitScale).toBe(0.01);
    process.env.QDSR_DELETION_DONE = 'submitted';
    const second = workflowDeps();
    expect(second).not.toBe(first);
    expect(second.deletionDone).toBe('submitted');
    delete process.env.QDSR_DELETION_DONE;
  });

  it('applies test overrides until reset', () => {
    setWorkflowDeps({ now: () => 42 });
    expect(workflowDeps().now()).toBe(42);
    resetWorkflowDeps();
    expect(workflowDeps().now()).not.toBe(42);
  });

  it('gives each invocation its own limiter gate over one shared client: a denial hands out the reserved slot', async () => {
    // At ×0.2 a slot is 800 ms and stays usable for 400 ms: a loaded machine is late by far less.
    process.env.QDSR_WAIT_SCALE = '0.2';
    const deps = workflowDeps(); // a new environment: a new client
    const tokensBefore = sim.counters().tokensIssued;
    // listErasureRequests: 20/min at 75 % → one call per 800 ms at this scale, burst 1: of 8
    // invocations at once, one goes out and the others are handed reserved slots.
    const invocations = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const q = await deps.qualtrics();
        const outcome = await q.api.listErasureRequestsPage().catch((e: unknown) => e);
        return { q, outcome };
      }),
    );
    const refused = invocations.filter((i) => i.outcome instanceof ThrottledError);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(8);
    refused.sort((a, b) => (a.outcome as ThrottledError).waitMs - (b.outcome as ThrottledError).waitMs);
    const { q: second, outcome: denied } = refused[0] as (typeof refused)[number];
    const held = second.reservations();
    expect(held.length).toBeGreaterThan(0);
    expect(JSON.stringify(held)).toContain('listErasureRequests');

    // The next attempt, after the exact wait, presents the reservation and is admitted.
    await new Promise((r) => setTimeout(r, (denied as ThrottledError).waitMs + 5));
    const third = await deps.qualtrics(held);
    await expect(third.api.listErasureRequestsPage()).resolves.toMatchObject({ elements: expect.any(Array) });
    // One OAuth token for all of them, though they started together: the client (and its token) is shared.
    expect(sim.counters().tokensIssued - tokensBefore).toBe(1);
    process.env.QDSR_WAIT_SCALE = '0.01';
  });
});
