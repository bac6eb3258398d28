/** A plain-text table for benchmark output (right-aligned numbers, left-aligned text). */
export function formatTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: ReadonlyArray<{ key: string; title?: string }>,
): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '–' : String(v));
  const header = columns.map((c) => c.title ?? c.key);
  const body = rows.map((r) => columns.map((c) => cell(r[c.key])));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = columns.map((c) => rows.every((r) => typeof r[c.key] === 'number' || r[c.key] == null));
  const line = (cells: string[]) =>
    cells.map((s, i) => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same rows as a Markdown table. */
export function markdownTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: ReadonlyArray<{ key: string; title?: string }>,
): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '–' : String(v).replace(/\|/g, '\\|'));
  const numeric = columns.map((c) => rows.every((r) => typeof r[c.key] === 'number' || r[c.key] == null));
  return [
    `| ${columns.map((c) => c.title ?? c.key).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c.key])).join(' | ')} |`),
  ].join('\n');
}
