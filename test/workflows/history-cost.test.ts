import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  POLL_MAX_SECONDS,
  POLL_MIN_SECONDS,
  pollIntervalSeconds,
  pollSecondsAfterCreation,
} from '../../lambdas/core/workflow/wait';

/**
 * What a 30-day Qualtrics job costs in execution-history events (Standard workflows stop at 25,000),
 * derived from the ASL poll loops and the poll schedule the handlers use.
 */

// biome-ignore lint/suspicious/noExplicitAny: ASL JSON
type States = Record<string, any>;

const asl = (name: string): { States: States } =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'statemachines', `${name}.asl.json`), 'utf8'));

/** History events AWS writes per state visit (Lambda tasks: Entered, Scheduled, Started, Succeeded, Exited). */
const EVENTS_PER_STATE: Record<string, number> = { Wait: 2, Choice: 2, Pass: 2, Task: 5 };
const HISTORY_LIMIT = 25_000;
const BUDGET = 20_000;
const THIRTY_DAYS_SECONDS = 30 * 86_400;

/** The states of a branch (or the top level) that holds `name`. */
function statesHolding(states: States, name: string): States | undefined {
  if (name in states) return states;
  for (const s of Object.values(states)) {
    const nested = [...(s.Branches ?? []), ...(s.ItemProcessor ? [s.ItemProcessor] : [])];
    for (const b of nested) {
      const found = statesHolding(b.States, name);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The loop "not done yet" takes from a poll Wait back to it: each state's Next, a Choice's Default
 * (its explicit choices leave the loop). Throws when the path does not come back.
 */
function pollLoop(definition: { States: States }, waitState: string): Array<{ name: string; type: string }> {
  const states = statesHolding(definition.States, waitState);
  if (!states) throw new Error(`no state ${waitState}`);
  const loop: Array<{ name: string; type: string }> = [];
  let name = waitState;
  do {
    const state = states[name];
    if (!state) throw new Error(`the loop leaves its branch at ${name}`);
    loop.push({ name, type: state.Type });
    name = state.Type === 'Choice' ? state.Default : state.Next;
    if (loop.length > 20) throw new Error(`no loop back to ${waitState}`);
  } while (name !== waitState);
  return loop;
}

function eventsPerPoll(loop: Array<{ type: string }>): number {
  return loop.reduce((n, s) => {
    const events = EVENTS_PER_STATE[s.type];
    if (events === undefined) throw new Error(`no event count for ${s.type}`);
    return n + events;
  }, 0);
}

/** Every state of a definition once (Parallel and Map bodies included): the part that is not polling. */
function allStatesOnce(states: States): number {
  let n = 0;
  for (const s of Object.values(states)) {
    n += EVENTS_PER_STATE[s.Type] ?? 3; // Parallel/Map/Succeed/Fail: entered, exited (+ started)
    for (const b of s.Branches ?? []) n += 2 + allStatesOnce(b.States);
    if (s.ItemProcessor) n += 2 + allStatesOnce(s.ItemProcessor.States);
  }
  return n;
}

describe('execution history of a 30-day Qualtrics job', () => {
  it('polls on a growing schedule between the minimum and the cap', () => {
    expect(pollIntervalSeconds(0)).toBe(POLL_MIN_SECONDS);
    expect(pollIntervalSeconds(600)).toBe(60);
    expect(pollIntervalSeconds(THIRTY_DAYS_SECONDS)).toBe(POLL_MAX_SECONDS);
    const schedule = pollSecondsAfterCreation(THIRTY_DAYS_SECONDS);
    expect(schedule.at(-1)).toBeGreaterThanOrEqual(THIRTY_DAYS_SECONDS);
    for (let i = 1; i < schedule.length; i++) {
      const gap = schedule[i]! - schedule[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(POLL_MIN_SECONDS - 1e-6);
      expect(gap).toBeLessThanOrEqual(POLL_MAX_SECONDS + 1e-6);
    }
  });

  for (const [workflow, waitState, directories] of [
    ['access', 'Wait before polling the customer-data job', 200],
    ['deletion', 'Wait before checking the erasure', 200],
  ] as const) {
    it(`${workflow}: stays under ${BUDGET} events (limit ${HISTORY_LIMIT})`, () => {
      const definition = asl(workflow);
      const loop = pollLoop(definition, waitState);
      expect(loop.map((s) => s.type)).toEqual(['Wait', 'Task', 'Choice']);
      const perPoll = eventsPerPoll(loop);
      const polls = pollSecondsAfterCreation(THIRTY_DAYS_SECONDS).length;
      // Everything else once, plus the directory Map: each directory runs its whole body once.
      const mapBody = statesHolding(definition.States, 'Search directory for the subject');
      const perDirectory = 2 + allStatesOnce(mapBody ?? {});
      // A limiter wait on one poll in ten, each a Choice → Wait → Task detour.
      const limiterDetours = Math.ceil(polls / 10) * perPoll;
      const total =
        polls * perPoll + limiterDetours + allStatesOnce(definition.States) + directories * perDirectory;

      expect(perPoll).toBe(9);
      expect(polls).toBeLessThan(1_000);
      expect(total, `${polls} polls × ${perPoll} + the rest = ${total} events`).toBeLessThan(BUDGET);
    });
  }
});
