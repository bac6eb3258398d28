import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { resetWorkflowDeps, workflowDeps } from '../../lambdas/core/workflow/deps';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { runWorkflow, type WorkflowEvent } from '../../local/engine/workflows';
import { connectorEnvFor } from '../../local/simulator';
import { CANARY_CLIENT } from '../support/canaries';
import { type ClosablePort, startClosablePort } from '../support/closable-port';
import { startWorkflowWorld, type WorkflowWorld } from './harness';

/**
 * A create refused at the socket never reached Qualtrics: the step gives its claim back and the
 * retry creates the job, exactly once (README "Design decisions"). Qualtrics is reached through a
 * port that stops listening (ECONNREFUSED) while the workflow starts, and listens again once the
 * create step has failed on it.
 */

const SCALE = 0.002;
let w: WorkflowWorld;
let door: ClosablePort;

beforeAll(async () => {
  w = await startWorkflowWorld({ scale: SCALE });
  door = await startClosablePort(w.sim.url);
  w.setEnv(connectorEnvFor(door.url, CANARY_CLIENT));
});
afterAll(async () => {
  await door?.dispose();
  await w?.close();
});

describe('a create refused at the socket', () => {
  it('is retried like any transient error: COMPLETED with exactly one customer-data job', async () => {
    const subject = 'refused.create@example.org';
    const requestId = await w.createRequest('access', subject);
    // A token first, through the open port: the create itself is what meets the closed one.
    resetWorkflowDeps();
    await (await workflowDeps().qualtrics()).api.whoami();
    await door.close();

    const refusedCreates: WorkflowEvent[] = [];
    const run = await runWorkflow({
      type: 'access',
      requestId,
      waitScale: SCALE,
      handlers: STEP_HANDLERS,
      onEvent: (e) => {
        if (e.state === 'Start customer-data job' && e.error?.Error === 'Qualtrics.Transient') {
          refusedCreates.push(e);
          void door.open();
        }
      },
    });

    expect(refusedCreates.length).toBeGreaterThanOrEqual(1);
    expect(String(refusedCreates[0]?.error?.Cause)).toMatch(/ECONNREFUSED.*not sent/);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    const record = await w.record(requestId);
    expect(record.status).toBe('COMPLETED');
    expect(record.qualtrics.customerDataRequestId).toBeTruthy();
    expect(w.sim.counters().bySubject[emailSha256(subject)]?.customerDataCreates).toBe(1);
    expect(w.sim.customerDataJobs()).toHaveLength(1);
  });
});
