/**
 * `readme` with the section under `heading` (from that line to the next `## ` heading, or the end)
 * replaced by `section`, which starts with the same heading. Throws when the README has no such
 * heading: nothing to regenerate. The benchmarks write their README sections with it.
 */
export function spliceReadmeSection(readme: string, heading: string, section: string): string {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === heading);
  if (start < 0) throw new Error(`README has no "${heading}" heading`);
  const next = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  const before = lines
    .slice(0, start)
    .map((l) => `${l}\n`)
    .join('');
  const after = next < 0 ? '' : `\n${lines.slice(next).join('\n')}`;
  return `${before}${section.trimEnd()}\n${after}`;
}

/** The section under `heading` as `spliceReadmeSection` would replace it (trailing blank lines cut). */
export function readmeSectionOf(readme: string, heading: string): string {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === heading);
  if (start < 0) throw new Error(`README has no "${heading}" heading`);
  const next = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return `${lines
    .slice(start, next < 0 ? undefined : next)
    .join('\n')
    .trimEnd()}\n`;
}
