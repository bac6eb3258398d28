import { AsyncLocalStorage } from 'node:async_hooks';
import { HANDLERS, type HandlerName, type HandlerResource } from '../../lambdas/catalog';
import type { WorkflowDeps } from '../../lambdas/core/workflow/env';
import type { StepHandlers } from '../../local/engine/workflows';

/**
 * Which resources each step actually touches while a workflow runs, to compare with what the
 * catalog grants it (the stack turns those into IAM grants; the local engine enforces none).
 */

const STORE_READS = new Set(['get', 'getStatusDocument']);
const WRITER_RESOURCES: Record<string, (args: unknown[]) => HandlerResource[]> = {
  putStream: () => ['exportsBucket:write', 'exportsBucket:read'],
  putJson: ([key]) => [String(key).startsWith('evidence/') ? 'evidence:write' : 'exportsBucket:write'],
  readJson: () => ['exportsBucket:read'],
  writeManifest: () => ['exportsBucket:read', 'exportsBucket:write'],
  verifyBundle: () => ['exportsBucket:read'],
  writeEvidence: () => ['evidence:write'],
  presign: () => ['exportsBucket:read'],
  copyBundleTo: () => ['exportsBucket:read'],
};

export interface ResourceAudit {
  /** The registry with each handler run in its step's scope. */
  handlers(registry: StepHandlers): StepHandlers;
  /** Dependencies whose store, writer, events and Qualtrics note what each step uses. */
  deps(real: WorkflowDeps): Partial<WorkflowDeps>;
  /** Resources used that the catalog does not grant, as `step: resource`. */
  violations(): string[];
  used(): Map<HandlerName, Set<HandlerResource>>;
}

export function resourceAudit(): ResourceAudit {
  const scope = new AsyncLocalStorage<HandlerName>();
  const usage = new Map<HandlerName, Set<HandlerResource>>();
  const note = (...resources: HandlerResource[]) => {
    const step = scope.getStore();
    if (!step) return;
    const set = usage.get(step) ?? new Set<HandlerResource>();
    for (const r of resources) set.add(r);
    usage.set(step, set);
  };
  const watch = <T extends object>(
    target: T,
    resourcesOf: (method: string, args: unknown[]) => HandlerResource[],
  ): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          note(...resourcesOf(String(prop), args));
          return value.apply(t, args);
        };
      },
    });
  return {
    handlers: (registry) =>
      Object.fromEntries(
        Object.entries(registry).map(([name, handler]) => [
          name,
          (event: unknown, context: unknown) =>
            scope.run(name as HandlerName, () => handler!(event, context)),
        ]),
      ),
    deps: (real) => ({
      store: watch(real.store, (m) => [STORE_READS.has(m) ? 'requestsTable:read' : 'requestsTable:write']),
      writer: watch(real.writer, (m, args) => WRITER_RESOURCES[m]?.(args) ?? []),
      events: watch(real.events, () => ['events:put']),
      qualtrics: (held) => {
        note('limiterTable:write', 'qualtricsSecret:read');
        return real.qualtrics(held);
      },
    }),
    violations: () => {
      const out: string[] = [];
      for (const [step, resources] of usage) {
        const granted = new Set<HandlerResource>(HANDLERS[step].resources);
        for (const r of resources) if (!granted.has(r)) out.push(`${step}: ${r}`);
      }
      return out.sort();
    },
    used: () => usage,
  };
}
