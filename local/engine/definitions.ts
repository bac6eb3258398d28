import { HANDLER_NAMES, type HandlerName } from '../../lambdas/catalog';
import {
  type AslDefinition,
  readAsl,
  substitute,
  substitutionIndex,
  taskStates,
  type WorkflowType,
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

export function loadLocalDefinition(type: WorkflowType): AslDefinition {
  const def = JSON.parse(substitute(readAsl(type), localSubstitutions())) as AslDefinition;
  // The 35-day timeout is for AWS; a laptop run is time-compressed and never lasts that long.
  if (typeof def.TimeoutSeconds === 'number' && def.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) {
    def.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
  }
  return def;
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
