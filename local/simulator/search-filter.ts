import type { SeedContact } from './seed';

/**
 * The contact-search filter language (docs/qualtrics-api.md#directories-and-contacts): a single `eq`
 * condition (documented), or `{conjunction: "and"|"or", filters: [...]}` ("and" single source; "or"
 * and nesting our choice). Matching is case-insensitive for email, firstName and lastName and exact
 * for phone and extRef (our choice).
 */

export const FILTER_TYPES = ['email', 'firstName', 'lastName', 'phone', 'extRef'] as const;
export type FilterType = (typeof FILTER_TYPES)[number];

export type ContactFilter =
  | { filterType: FilterType; comparison: 'eq'; value: string }
  | { conjunction: 'and' | 'or'; filters: ContactFilter[] };

const MAX_DEPTH = 4;
const MAX_CONDITIONS = 50;

/** Parses a search body `{filter}`; answers a reason (never echoing values) when it is invalid. */
export function parseSearchBody(body: unknown): { filter: ContactFilter } | { problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problem: 'body must be a JSON object with a filter' };
  }
  const raw = (body as Record<string, unknown>).filter;
  if (raw === undefined) return { problem: 'filter is required' };
  let conditions = 0;
  const parse = (f: unknown, depth: number): ContactFilter | string => {
    if (depth > MAX_DEPTH) return 'filter is nested too deeply';
    if (typeof f !== 'object' || f === null || Array.isArray(f)) return 'filter must be an object';
    const o = f as Record<string, unknown>;
    if ('conjunction' in o) {
      if (o.conjunction !== 'and' && o.conjunction !== 'or') return 'conjunction must be and or or';
      if (!Array.isArray(o.filters) || o.filters.length === 0) return 'filters must be a non-empty array';
      const filters: ContactFilter[] = [];
      for (const sub of o.filters) {
        const parsed = parse(sub, depth + 1);
        if (typeof parsed === 'string') return parsed;
        filters.push(parsed);
      }
      return { conjunction: o.conjunction, filters };
    }
    if (!(FILTER_TYPES as readonly unknown[]).includes(o.filterType)) {
      return `filterType must be one of ${FILTER_TYPES.join(', ')}`;
    }
    if (o.comparison !== 'eq') return 'comparison must be eq';
    if (typeof o.value !== 'string') return 'value must be a string';
    if (++conditions > MAX_CONDITIONS) return 'too many conditions';
    return { filterType: o.filterType as FilterType, comparison: 'eq', value: o.value };
  };
  const filter = parse(raw, 1);
  return typeof filter === 'string' ? { problem: filter } : { filter };
}

function field(c: SeedContact, type: FilterType): string {
  return type === 'email'
    ? c.email
    : type === 'firstName'
      ? c.firstName
      : type === 'lastName'
        ? c.lastName
        : type === 'phone'
          ? c.phone
          : c.extRef;
}

export function matchesFilter(f: ContactFilter, c: SeedContact): boolean {
  if ('conjunction' in f) {
    return f.conjunction === 'and'
      ? f.filters.every((s) => matchesFilter(s, c))
      : f.filters.some((s) => matchesFilter(s, c));
  }
  const actual = field(c, f.filterType);
  if (f.filterType === 'phone' || f.filterType === 'extRef') return actual === f.value;
  return actual.toLowerCase() === f.value.toLowerCase();
}

/** The email values a filter searches for (for per-subject counters). */
export function filterEmails(f: ContactFilter): string[] {
  if ('conjunction' in f) return f.filters.flatMap(filterEmails);
  return f.filterType === 'email' ? [f.value] : [];
}
