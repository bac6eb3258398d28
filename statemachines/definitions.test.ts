import { describe, expect, it } from 'vitest';
import {
  readAsl,
  substitute,
  substitutionIndex,
  substitutionKeys,
  taskStates,
  WORKFLOW_TYPES,
  walkStates,
} from './definitions';

/** `${key}` as the ASL writes it. */
const ref = (key: string) => `\${${key}}`;

describe('ASL substitutions', () => {
  it('lists the keys a text uses once each, in order of first use', () => {
    expect(substitutionKeys(`${ref('B')} ${ref('A')} ${ref('B')} $notOne {C}`)).toEqual(['B', 'A']);
  });

  it('substitutes every key, and refuses an unknown one instead of leaving a blank', () => {
    expect(substitute(`"${ref('A')}-${ref('B')}"`, { A: 'x', B: 'y' })).toBe('"x-y"');
    expect(() => substitute(`${ref('A')} ${ref('Missing')}`, { A: 'x' })).toThrow(
      `no substitution for ${ref('Missing')}`,
    );
  });

  it('finds, for every key the ASL files use, the catalog handler that provides it', () => {
    const index = substitutionIndex();
    for (const type of WORKFLOW_TYPES) {
      const keys = substitutionKeys(readAsl(type));
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(index.has(key), `${type}: ${key}`).toBe(true);
    }
  });
});

describe('walking a definition', () => {
  const def = {
    StartAt: 'A',
    States: {
      A: { Type: 'Task', Resource: 'r:a', Next: 'P' },
      P: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'B', States: { B: { Type: 'Task', Resource: 'r:b', End: true } } }],
        Next: 'M',
      },
      M: {
        Type: 'Map',
        ItemProcessor: { StartAt: 'C', States: { C: { Type: 'Task', Resource: 'r:c', End: true } } },
        Next: 'L',
      },
      L: {
        Type: 'Map',
        Iterator: { StartAt: 'D', States: { D: { Type: 'Pass', End: true } } },
        End: true,
      },
    },
  };

  it('visits the states inside Parallel branches and Map processors (old and new spelling)', () => {
    const seen: string[] = [];
    walkStates(def, (name) => seen.push(name));
    expect(seen).toEqual(['A', 'P', 'B', 'M', 'C', 'L', 'D']);
  });

  it('lists the Task states with their resources', () => {
    expect(taskStates(def).map((t) => [t.stateName, t.resource])).toEqual([
      ['A', 'r:a'],
      ['B', 'r:b'],
      ['C', 'r:c'],
    ]);
  });
});
