import type { DsrEvent } from '../../lambdas/core/events';
import { localEvents } from '../../lambdas/core/events';
import { type ExportWriter, exportWriterFromEnv } from '../../lambdas/core/export-writer';
import { type RequestRecord, type RequestStore, requestStoreFromEnv } from '../../lambdas/core/request-store';
import { resetWorkflowDeps, setWorkflowDeps, workflowDeps } from '../../lambdas/core/workflow/deps';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { stepLogger } from '../../lambdas/middleware';
import { type LocalAws, startLocalAws } from '../../local/aws';
import { runWorkflow, type WorkflowEvent, type WorkflowRun } from '../../local/engine/workflows';
import {
  connectorEnvFor,
  SIMULATOR_CLIENT,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../local/simulator';
import { CANARY_CLIENT, CANARY_EMAIL, canarySeed, LeakScanner } from '../support/canaries';
import { scopedEnv } from '../support/scoped-env';
import { type ResourceAudit, resourceAudit } from './resource-audit';

/**
 * The real pieces the workflow tests run on: dynalite + s3rver (`startLocalAws`), the simulator
 * over HTTP, the real ASL files in the local engine with the real handlers. Every wait runs
 * `scale` times faster, the simulator's clock as well, so the limiter and Qualtrics agree on time.
 */

export interface WorkflowWorld {
  scale: number;
  aws: LocalAws;
  sim: Simulator;
  store: RequestStore;
  writer: ExportWriter;
  /** Connector events (Privacy Request Completed / Failed) published since the world started. */
  published: DsrEvent[];
  createRequest(type: 'access' | 'deletion', email: string, opts?: { dryRun?: boolean }): Promise<string>;
  run(type: 'access' | 'deletion', requestId: string): Promise<WorkflowRun>;
  record(requestId: string): Promise<RequestRecord>;
  /** What each step touched in every run so far, against the catalog's grants. */
  audit: ResourceAudit;
  /** Sets env for the next steps (e.g. QDSR_DELETION_DONE) until close; the deps are rebuilt. */
  setEnv(vars: Record<string, string | undefined>): void;
  /**
   * Leak canaries (test/support/canaries.ts): every run authenticates with the canary client
   * secret, the canary subject is seeded, and the logs, execution events, emitted events, errors
   * and status documents are scanned for the canaries and every subject a test submitted; `run`
   * throws on a hit, and so does `close`.
   */
  leaks: LeakScanner;
  close(): Promise<void>;
}

export async function startWorkflowWorld(
  opts: { scale?: number; simulator?: SimulatorOptions } = {},
): Promise<WorkflowWorld> {
  const scale = opts.scale ?? 0.002;
  const env = scopedEnv();
  const setEnv = env.set;
  const aws = await startLocalAws();
  aws.applyEnv();
  const sim = await startSimulator({
    timeScale: scale,
    seed: canarySeed([CANARY_EMAIL]),
    ...opts.simulator,
    clients: [CANARY_CLIENT, ...(opts.simulator?.clients ?? [])],
  });
  setEnv({
    ...connectorEnvFor(sim.url, CANARY_CLIENT),
    QDSR_WAIT_SCALE: String(scale),
    QDSR_EVENT_BUS: undefined,
    QDSR_DELETION_DONE: undefined,
  });
  const store = requestStoreFromEnv();
  const writer = exportWriterFromEnv();
  const audit = resourceAudit();
  const published: DsrEvent[] = [];
  const unsubscribe = localEvents.subscribe((e) => published.push(e));
  const leaks = new LeakScanner({ watch: [SIMULATOR_CLIENT.clientSecret] });
  const stopOutput = leaks.captureOutput();
  const stopEvents = leaks.subscribeEvents();
  return {
    scale,
    aws,
    sim,
    store,
    writer,
    published,
    async createRequest(type, email, o = {}) {
      leaks.watch(email, 'subject email');
      const { record } = await store.create({
        source: 'api',
        type,
        email,
        ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
      });
      return record.requestId;
    },
    async run(type, requestId) {
      // Fresh dependencies of the current environment, watched.
      resetWorkflowDeps();
      setWorkflowDeps(audit.deps(workflowDeps()));
      // The step logger may have been turned down by a test since: every run logs everything.
      stepLogger.setLogLevel('DEBUG');
      // The registry is passed explicitly: the engine's lazy require() of it bypasses vitest's transform.
      const run = await runWorkflow({
        type,
        requestId,
        waitScale: scale,
        handlers: audit.handlers(STEP_HANDLERS),
      });
      leaks.scan('execution events', run.events);
      leaks.scan('execution output', run.output);
      leaks.scan('error', run.error);
      leaks.scan('status document', await store.getStatusDocument(requestId));
      leaks.assertClean(`leak canaries after the ${type} run of ${requestId}`);
      return run;
    },
    audit,
    async record(requestId) {
      const r = await store.get(requestId);
      if (!r) throw new Error(`no record ${requestId}`);
      return r;
    },
    setEnv,
    leaks,
    async close() {
      unsubscribe();
      stopEvents();
      stopOutput();
      env.restore();
      await sim.close();
      await aws.close();
      leaks.assertClean('leak canaries');
    },
  };
}

/** Every event of a run as one string, to search for leaks. */
export function serialized(run: WorkflowRun): string {
  return JSON.stringify(run.events);
}

/** States entered, in order, by name. */
export function statesEntered(events: WorkflowEvent[]): string[] {
  return events.filter((e) => e.type === 'StateEntered').map((e) => e.state ?? '');
}

/** Every spelling of an email a leak could take. */
export function emailForms(email: string): string[] {
  const forms = [email, email.toLowerCase(), email.toUpperCase(), encodeURIComponent(email)];
  forms.push(encodeURIComponent(email).toLowerCase(), encodeURIComponent(email).toUpperCase());
  return [...new Set(forms)];
}
