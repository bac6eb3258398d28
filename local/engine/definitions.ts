import { HANDLER_NAMES, type HandlerName } from '../../lambdas/catalog';
import {
  type AslDefinition,
  readAsl,
  substitute,
  substitutionIndex,
  taskStates,
  type WorkflowType,
  walkStates,
} from '../../statemachines/definitions';

/**
 * The ASL files as the laptop runs them: every `${…}` Lambda substitution becomes a fake ARN that
 * names the catalog entry, and each Task state is mapped back to the same handler module AWS runs.
 */

export const LOCAL_ACCOUNT = '000000000000';
export const localFunctionArn = (name: HandlerName): string =>
  `arn:aws:lambda:us-east-1:${LOCAL_ACCOUNT}:function:qdsr-local-${name}`;

export function localSubstitutions(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, name] of substitutionIndex()) values[key] = localFunctionArn(name);
  return values;
}

/** Node timers hold at most 2^31-1 ms (~24.8 days); a longer execution timeout would fire at once. */
export const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export interface LocalDefinition {
  /** The definition the engine runs: every Task's own timeout is left to the step runner. */
  definition: AslDefinition;
  /** The `TimeoutSeconds` the ASL gives a Task state, by state name (none in ours today). */
  stateTimeouts: Map<string, number>;
}

/**
 * The ASL as the embedded engine runs it. aws-local-stepfunctions gives a Task without
 * `TimeoutSeconds` a 60-s timeout of its own, and starts the clock when the engine asks for the
 * step, so a step that waits for a free step slot (QDSR_LOCAL_CONCURRENCY) times out without having
 * run. In AWS a Task has no timeout unless the ASL sets one, and the Lambda's own timeout counts
 * from when it runs. So every Task here gets the longest timeout a Node timer holds (the engine's
 * own never fires), and the step runner enforces the ASL's and the Lambda's from when the step
 * starts running (engine/workflows.ts).
 */
export function loadLocalDefinition(type: WorkflowType): LocalDefinition {
  const def = JSON.parse(substitute(readAsl(type), localSubstitutions())) as AslDefinition;
  // The 35-day timeout is for AWS; a laptop run is time-compressed and never lasts that long.
  if (typeof def.TimeoutSeconds === 'number' && def.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) {
    def.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
  }
  const stateTimeouts = new Map<string, number>();
  walkStates(def, (name, state) => {
    if (state.Type !== 'Task') return;
    if (state.TimeoutSecondsPath !== undefined) {
      throw new Error(`Task state "${name}": TimeoutSecondsPath is not supported by the local engine`);
    }
    if (typeof state.TimeoutSeconds === 'number') stateTimeouts.set(name, state.TimeoutSeconds);
    state.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
  });
  return { definition: def, stateTimeouts };
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
