import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_NAMES, HANDLERS, type HandlerName, type HandlerSpec } from '../../lambdas/catalog';

/**
 * The ASL files are the single source of truth for AWS and local runs. Locally, every `${…}` Lambda
 * substitution becomes a fake ARN that names the catalog entry, and each Task state is mapped back
 * to the same handler module AWS runs.
 */

export type WorkflowType = 'access' | 'deletion';
export const WORKFLOW_TYPES: readonly WorkflowType[] = ['access', 'deletion'];

export const REPO_ROOT = join(__dirname, '..', '..');
export const aslPath = (type: WorkflowType): string => join(REPO_ROOT, 'statemachines', `${type}.asl.json`);

export const LOCAL_ACCOUNT = '000000000000';
export const localFunctionArn = (name: HandlerName): string =>
  `arn:aws:lambda:us-east-1:${LOCAL_ACCOUNT}:function:qdsr-local-${name}`;

/** Substitution key (`RecordStartedFunctionArn`) → catalog name (`recordStarted`). */
export function substitutionIndex(): Map<string, HandlerName> {
  const index = new Map<string, HandlerName>();
  for (const name of HANDLER_NAMES) {
    const spec: HandlerSpec = HANDLERS[name];
    if (spec.substitution) index.set(spec.substitution, name);
  }
  return index;
}

/** Replaces every `${Key}` with `values[Key]`; an unknown key is an error, never a silent blank. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no substitution for \${${key}}`);
    return value;
  });
}

export function localSubstitutions(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, name] of substitutionIndex()) values[key] = localFunctionArn(name);
  return values;
}

// biome-ignore lint/suspicious/noExplicitAny: ASL is untyped JSON here; asl-validator and the engine check it.
export type AslState = Record<string, any>;
export type AslDefinition = { StartAt: string; States: Record<string, AslState>; [k: string]: unknown };

export function readAsl(type: WorkflowType): string {
  return readFileSync(aslPath(type), 'utf8');
}

/** Node timers hold at most 2^31-1 ms (~24.8 days); a longer execution timeout would fire at once. */
export const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function loadLocalDefinition(type: WorkflowType): AslDefinition {
  const def = JSON.parse(substitute(readAsl(type), localSubstitutions())) as AslDefinition;
  // The 35-day timeout is for AWS; a laptop run is time-compressed and never lasts that long.
  if (typeof def.TimeoutSeconds === 'number' && def.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) {
    def.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
  }
  return def;
}

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

/** Task state name → catalog handler name, by the fake ARN in its Resource. */
export function taskHandlerNames(def: AslDefinition): Map<string, HandlerName> {
  const byArn = new Map<string, HandlerName>(HANDLER_NAMES.map((n) => [localFunctionArn(n), n]));
  const out = new Map<string, HandlerName>();
  for (const t of taskStates(def)) {
    const name = byArn.get(t.resource);
    if (!name)
      throw new Error(`Task state "${t.stateName}" has resource ${t.resource}, which is not in the catalog`);
    const previous = out.get(t.stateName);
    if (previous && previous !== name) {
      // The local engine keys handlers by state name, so one name must mean one function.
      throw new Error(`state name "${t.stateName}" is used for two different functions`);
    }
    out.set(t.stateName, name);
  }
  return out;
}
