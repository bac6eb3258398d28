import { describe, expect, it } from 'vitest';
import { combine, render } from './update-expression';
import { appendToTimeline, notTerminal, setStatus, timelineEntry } from './updates';

describe('update expressions', () => {
  it('combine clauses in order and join conditions with AND', () => {
    const spec = combine(
      { condition: 'attribute_exists(pk)' },
      setStatus('RUNNING'),
      { remove: ['finishedAt'] },
      notTerminal,
      { set: ['updatedAt = :now'], values: { ':now': 'T' } },
    );
    expect(render(spec)).toEqual({
      UpdateExpression: 'SET #status = :status, updatedAt = :now REMOVE finishedAt',
      ConditionExpression: '(attribute_exists(pk)) AND (NOT #status IN (:terminal0, :terminal1))',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': 'RUNNING',
        ':terminal0': 'COMPLETED',
        ':terminal1': 'FAILED',
        ':now': 'T',
      },
    });
  });

  it('pass on only the names and values the expressions use (DynamoDB rejects the others)', () => {
    const rendered = render({
      set: ['counts.#count1 = :count1'],
      names: { '#count1': 'files', '#count10': 'unused', '#status': 'status' },
      values: { ':count1': 2, ':count10': 3 },
    });
    expect(rendered.ExpressionAttributeNames).toEqual({ '#count1': 'files' });
    expect(rendered.ExpressionAttributeValues).toEqual({ ':count1': 2 });
    expect(render({ remove: ['x'] })).toEqual({ UpdateExpression: 'REMOVE x' });
  });

  it('refuse parts that mean different things by one placeholder, and an update that changes nothing', () => {
    expect(() => combine(setStatus('RUNNING'), setStatus('FAILED'))).toThrow(/disagree on :status/);
    expect(combine(notTerminal, notTerminal).values).toEqual(notTerminal.values);
    expect(() => render(notTerminal)).toThrow(/SET or REMOVE/);
  });

  it('append one scrubbed, bounded entry to the timeline', () => {
    const entry = timelineEntry(
      new Date('2026-01-01T00:00:00Z'),
      'SEARCH',
      `found jane@example.com ${'x'.repeat(600)}`,
    );
    expect(entry.detail).toMatch(/^found j\*\*\*@example\.com x+…$/);
    expect(entry.detail).toHaveLength(500);
    expect(render(appendToTimeline(entry))).toEqual({
      UpdateExpression: 'SET timeline = list_append(if_not_exists(timeline, :empty), :entry)',
      ExpressionAttributeValues: { ':empty': [], ':entry': [entry] },
    });
  });
});
