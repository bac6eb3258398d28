import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES, HANDLERS } from '../catalog';
import { STEP_HANDLERS } from '.';

describe('STEP_HANDLERS', () => {
  it('has a handler for every catalog entry the state machines refer to, and only those', () => {
    const withSubstitution = HANDLER_NAMES.filter((n) => 'substitution' in HANDLERS[n]);
    expect(Object.keys(STEP_HANDLERS).sort()).toEqual([...withSubstitution].sort());
    for (const name of withSubstitution) expect(typeof STEP_HANDLERS[name], name).toBe('function');
  });
});
