import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_NAMES, HANDLERS, type HandlerName, type HandlerSpec } from '../lambdas/catalog';
import { REQUEST_TYPES, type RequestType } from '../lambdas/core/request-contract';

/**
 * Reading the ASL files, the single source of truth for AWS and local runs. This module sits beside
 * them, outside `infra/` and `local/`, because both load them: the stack substitutes each `${…}`
 * with a function's ARN, the laptop engine with a fake one (`local/engine/definitions.ts`), and
 * neither may depend on the other. It depends on the handler catalog and the request types alone.
 */

/** One workflow, one ASL file, per request type. */
export type WorkflowType = RequestType;
export const WORKFLOW_TYPES: readonly WorkflowType[] = REQUEST_TYPES;

export const aslPath = (type: WorkflowType): string => join(__dirname, `${type}.asl.json`);

export function readAsl(type: WorkflowType): string {
  return readFileSync(aslPath(type), 'utf8');
}

const SUBSTITUTION = /\$\{(\w+)\}/g;

/** The `${Key}` substitutions an ASL text uses, in order of first use. */
export function substitutionKeys(asl: string): string[] {
  return [...new Set([...asl.matchAll(SUBSTITUTION)].map((m) => m[1] as string))];
}

/** Replaces every `${Key}` with `values[Key]`; an unknown key is an error, never a silent blank. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(SUBSTITUTION, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no substitution for \${${key}}`);
    return value;
  });
}

/** Substitution key (`RecordStartedFunctionArn`) → catalog name (`recordStarted`). */
export function substitutionIndex(): Map<string, HandlerName> {
  const index = new Map<string, HandlerName>();
  for (const name of HANDLER_NAMES) {
    const spec: HandlerSpec = HANDLERS[name];
    if (spec.substitution) index.set(spec.substitution, name);
  }
  return index;
}

// biome-ignore lint/suspicious/noExplicitAny: ASL is untyped JSON here; asl-validator and the engine check it.
export type AslState = Record<string, any>;
export type AslDefinition = { StartAt: string; States: Record<string, AslState>; [k: string]: unknown };

export interface TaskStateRef {
  stateName: string;
  resource: string;
  state: AslState;
}

/** Every state of a definition, including those inside Parallel branches and Map processors. */
export function walkStates(
  def: { States: Record<string, AslState> },
  visit: (name: string, state: AslState) => void,
): void {
  for (const [name, state] of Object.entries(def.States)) {
    visit(name, state);
    if (state.Type === 'Parallel') for (const branch of state.Branches) walkStates(branch, visit);
    if (state.Type === 'Map') walkStates(state.ItemProcessor ?? state.Iterator, visit);
  }
}

export function taskStates(def: AslDefinition): TaskStateRef[] {
  const out: TaskStateRef[] = [];
  walkStates(def, (stateName, state) => {
    if (state.Type === 'Task') out.push({ stateName, resource: state.Resource, state });
  });
  return out;
}
