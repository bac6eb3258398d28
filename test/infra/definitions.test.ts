import '../../local/engine/polyfills';
import { randomUUID } from 'node:crypto';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowSubstitutions } from '../../infra/constructs/workflows';
import { HANDLERS, type HandlerName, type HandlerSpec } from '../../lambdas/catalog';
import { manifestKey } from '../../lambdas/core/tables';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { SEEDED_SUBJECT } from '../../local/simulator';
import {
  type AslDefinition,
  readAsl,
  substitute,
  substitutionKeys,
  taskStates,
  WORKFLOW_TYPES,
  type WorkflowType,
  walkStates,
} from '../../statemachines/definitions';
import { startWorkflowWorld, type WorkflowWorld } from '../workflows/harness';
import { FAKE_ACCOUNT, FAKE_REGION, fakeArns, resolve, type Synth, synth } from './support';

/**
 * What deploys is what we tested: the state machines in the synthesized template, once their
 * `DefinitionSubstitutions` are resolved (to fake ARNs), are the ASL files — and that very
 * definition runs to COMPLETED in the local engine, each Task's ARN mapped back to its catalog
 * handler, against dynalite, s3rver and the Qualtrics simulator.
 */

let s: Synth;
const functionArn = (logicalId: string) =>
  `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${logicalId}`;

beforeAll(() => {
  s = synth();
});

/** The definition exactly as CloudFormation would hand it to Step Functions (fake account). */
function synthesizedDefinition(type: WorkflowType): { text: string; substitutions: Record<string, string> } {
  const machine = s.json.Resources[s.id(s.stack.workflows[type])]?.Properties ?? {};
  const substitutions = resolve(machine.DefinitionSubstitutions, fakeArns(s.json)) as Record<string, string>;
  return { text: substitute(String(machine.DefinitionString), substitutions), substitutions };
}

describe('synthesized definitions equal the ASL files', () => {
  for (const type of WORKFLOW_TYPES) {
    it(`${type}: every substitution is the catalog function of that name, and the rest is the file`, () => {
      const { text, substitutions } = synthesizedDefinition(type);
      const { handlers } = workflowSubstitutions(type);
      expect(Object.keys(substitutions).sort()).toEqual(substitutionKeys(readAsl(type)).sort());
      for (const [key, name] of handlers) {
        expect((HANDLERS[name] as HandlerSpec).substitution).toBe(key);
        expect(substitutions[key], key).toBe(functionArn(s.functionIds[name]));
      }
      const expected = JSON.parse(substitute(readAsl(type), substitutions));
      expect(JSON.parse(text)).toEqual(expected);
      expect(text).not.toMatch(/\$\{/);
    });

    it(`${type}: validates with asl-validator (ARNs and paths checked)`, () => {
      const definition = JSON.parse(synthesizedDefinition(type).text);
      // asl-validator mutates its input.
      const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    });
  }
});

describe('synthesized definitions execute in the local engine', () => {
  const scale = 0.002;
  let world: WorkflowWorld;

  beforeAll(async () => {
    world = await startWorkflowWorld({ scale });
  });
  afterAll(async () => {
    await world?.close();
  });

  /** Runs the synthesized definition: Task ARN → logical id → catalog handler → the real module. */
  async function runSynthesized(type: WorkflowType, requestId: string) {
    const definition = JSON.parse(synthesizedDefinition(type).text) as AslDefinition;
    const byArn = new Map<string, HandlerName>(
      Object.entries(s.functionIds).map(([name, id]) => [functionArn(id), name as HandlerName]),
    );
    const local: Record<string, (input: unknown) => Promise<unknown>> = {};
    const called = new Set<HandlerName>();
    for (const task of taskStates(definition)) {
      const name = byArn.get(task.resource);
      if (!name)
        throw new Error(`Task "${task.stateName}" runs ${task.resource}, not a function of the stack`);
      const handler = STEP_HANDLERS[name];
      if (!handler) throw new Error(`no step handler ${name}`);
      local[task.stateName] = async (input) => {
        called.add(name);
        // The Lambda boundary is JSON.
        const out = await handler(JSON.parse(JSON.stringify(input)), lambdaContext(name));
        return out === undefined ? null : JSON.parse(JSON.stringify(out));
      };
    }
    const retries: Record<string, number[]> = {};
    walkStates(definition, (name, state) => {
      if (Array.isArray(state.Retry)) {
        retries[name] = state.Retry.map((r: { IntervalSeconds?: number }) =>
          Math.round((r.IntervalSeconds ?? 1) * 1000 * scale),
        );
      }
    });
    // The one change: Node's timers are 32-bit, so the engine cannot arm a 35-day execution timeout
    // (it would fire at once). The deployed machine keeps it; the equality test above proves it.
    expect(definition.TimeoutSeconds).toBe(35 * 24 * 3600);
    delete definition.TimeoutSeconds;
    // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than our JSON
    const machine = new StateMachine(definition as any, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const execution = machine.run(
      { requestId },
      // biome-ignore lint/suspicious/noExplicitAny: the engine's handler type expects JSON values
      { overrides: { taskResourceLocalHandlers: local as any, retryIntervalOverrides: retries } },
    );
    const output = await execution.result;
    return { output, called };
  }

  it('access: runs to COMPLETED with every file of the bundle in place', async () => {
    const requestId = await world.createRequest('access', SEEDED_SUBJECT);
    const { called } = await runSynthesized('access', requestId);
    const record = await world.record(requestId);
    expect(record.status).toBe('COMPLETED');
    expect(called).toContain('startCustomerDataJob');
    expect(called).toContain('writeManifest');
    const manifest = await world.writer.readJson<{ requestId: string }>(manifestKey(requestId));
    expect(manifest?.requestId).toBe(requestId);
    expect(await world.writer.verifyBundle(requestId)).toEqual({ ok: true, problems: [] });
  });

  it('deletion: runs to COMPLETED once Qualtrics confirms the erasure', async () => {
    const requestId = await world.createRequest('deletion', SEEDED_SUBJECT);
    const { called } = await runSynthesized('deletion', requestId);
    const record = await world.record(requestId);
    expect(record.status).toBe('COMPLETED');
    expect(called).toContain('createErasure');
    expect(called).toContain('writeEvidence');
    expect(record.qualtrics.erasureRequestId).toBeTruthy();
  });
});

function lambdaContext(name: HandlerName): Record<string, unknown> {
  const deadline = Date.now() + HANDLERS[name].timeoutSeconds * 1000;
  return {
    awsRequestId: randomUUID(),
    functionName: name,
    functionVersion: '$LATEST',
    memoryLimitInMB: String(HANDLERS[name].memoryMb),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
