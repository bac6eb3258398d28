import { describe, expect, it } from 'vitest';
import { executionName, parseExecutionName } from './execution-names';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

describe('execution names', () => {
  it('round-trip a request id and attempt', () => {
    expect(executionName(ID)).toBe(`${ID}-1`);
    expect(parseExecutionName(executionName(ID, 3))).toEqual({ requestId: ID, attempt: 3 });
    expect(parseExecutionName(`${ID.toUpperCase()}-2`)).toEqual({ requestId: ID, attempt: 2 });
  });

  it('refuse names the starter did not make', () => {
    for (const name of [ID, `${ID}-`, `${ID}-x`, `${ID}-1-2`, `x${ID}-1`, 'manual-run-1', '']) {
      expect(parseExecutionName(name), name).toBeUndefined();
    }
    expect(() => executionName(ID, 0)).toThrow(/positive integer/);
  });
});
