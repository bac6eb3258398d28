/**
 * DynamoDB update expressions built from parts: each part says its SET/REMOVE clauses, the
 * `#names` and `:values` they use, and a condition. Parts combine into one conditional UpdateItem,
 * so a clause every write shares (the timeline append, the terminal-status guard) is written once.
 */

export interface UpdateSpec {
  set?: readonly string[];
  remove?: readonly string[];
  names?: Readonly<Record<string, string>>;
  values?: Readonly<Record<string, unknown>>;
  condition?: string;
}

/** The parts as one update: clauses in order, conditions joined with AND. */
export function combine(...parts: UpdateSpec[]): UpdateSpec {
  const conditions = parts.flatMap((p) => (p.condition ? [p.condition] : []));
  return {
    set: parts.flatMap((p) => p.set ?? []),
    remove: parts.flatMap((p) => p.remove ?? []),
    names: mergePlaceholders(parts.map((p) => p.names)),
    values: mergePlaceholders(parts.map((p) => p.values)),
    condition: conditions.length > 1 ? conditions.map((c) => `(${c})`).join(' AND ') : conditions[0],
  };
}

export interface RenderedUpdate {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** The UpdateItem parameters of `spec` (which must SET or REMOVE something). */
export function render(spec: UpdateSpec): RenderedUpdate {
  const clauses: string[] = [];
  if (spec.set?.length) clauses.push(`SET ${spec.set.join(', ')}`);
  if (spec.remove?.length) clauses.push(`REMOVE ${spec.remove.join(', ')}`);
  if (clauses.length === 0) throw new Error('an update must SET or REMOVE something');
  const expression = clauses.join(' ');
  const text = `${expression} ${spec.condition ?? ''}`;
  const rendered: RenderedUpdate = { UpdateExpression: expression };
  if (spec.condition) rendered.ConditionExpression = spec.condition;
  // DynamoDB rejects a name or value no expression uses; parts may declare more than one write needs.
  const names = usedIn(text, spec.names);
  const values = usedIn(text, spec.values);
  if (names) rendered.ExpressionAttributeNames = names;
  if (values) rendered.ExpressionAttributeValues = values;
  return rendered;
}

function usedIn<T>(
  text: string,
  placeholders: Readonly<Record<string, T>> | undefined,
): Record<string, T> | undefined {
  const used = Object.entries(placeholders ?? {}).filter(([k]) => new RegExp(`${k}\\b`).test(text));
  return used.length ? Object.fromEntries(used) : undefined;
}

/** One map of placeholders; two parts may share one only when they mean the same by it. */
function mergePlaceholders<T>(maps: Array<Readonly<Record<string, T>> | undefined>): Record<string, T> {
  const merged: Record<string, T> = {};
  for (const map of maps) {
    for (const [key, value] of Object.entries(map ?? {})) {
      if (Object.hasOwn(merged, key) && JSON.stringify(merged[key]) !== JSON.stringify(value)) {
        throw new Error(`update parts disagree on ${key}`);
      }
      merged[key] = value;
    }
  }
  return merged;
}
