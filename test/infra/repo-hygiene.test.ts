import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What a merge or a copy-paste can leave in the tree unseen by the compiler: conflict markers in
 * prose, and citations of documents that are not in the repo (code and comments cite the README
 * and docs/ only, so a reader of the repo can follow every one).
 */

const root = join(__dirname, '..', '..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && !/\.(png|jpe?g|gif|ico|zip|gz)$/.test(f) && f !== 'package-lock.json');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** The lines git writes around a conflict (built here so this file holds none of them). */
const CONFLICT_MARKER = new RegExp(`^(${'<'.repeat(7)}|${'>'.repeat(7)})( |$)`, 'm');
const OUTSIDE_CITATION = /\bBRIEF\b|shared\/reference|qualtrics-api\.md ?§|\b[Ii]ssue ?#?\d+\b/;
const SOURCE_DIRS = ['lambdas/', 'local/', 'infra/', 'bench/', 'statemachines/', 'schemas/'];

/**
 * Where a run of RUN_LINES identical code lines (blank lines, comments, imports and lone
 * punctuation passed over, white space folded) stands twice: "first ~ second" for each repeat.
 */
const RUN_LINES = 6;
function repeatedRuns(sources: ReadonlyMap<string, string>): string[] {
  const seen = new Map<string, string>();
  const repeats: string[] = [];
  for (const [file, text] of sources) {
    const code: Array<{ at: number; line: string }> = [];
    let inImportList = false;
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim().replace(/\s+/g, ' ');
      if (inImportList) {
        if (line.startsWith('} from ')) inImportList = false;
        return;
      }
      if (/^(import|export)( type)? \{$/.test(line)) {
        inImportList = true;
        return;
      }
      if (line === '' || /^(\/\/|\/\*|\*|import )/.test(line) || /^[[\]{}();,]+$/.test(line)) return;
      code.push({ at: i + 1, line });
    });
    for (let i = 0; i + RUN_LINES <= code.length; i++) {
      const run = code
        .slice(i, i + RUN_LINES)
        .map((c) => c.line)
        .join('\n');
      const where = `${file}:${code[i]!.at}`;
      const first = seen.get(run);
      if (first) repeats.push(`${first} ~ ${where}`);
      else seen.set(run, where);
    }
  }
  return repeats;
}

describe('the tracked files', () => {
  it('hold no conflict marker', () => {
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked.filter((f) => CONFLICT_MARKER.test(read(f)))).toEqual([]);
  });

  it('cite no document outside the repo in the source', () => {
    const sources = tracked.filter((f) => SOURCE_DIRS.some((d) => f.startsWith(d)));
    expect(sources.length).toBeGreaterThan(50);
    const citing = sources.flatMap((f) =>
      read(f)
        .split('\n')
        .flatMap((line, i) => (OUTSIDE_CITATION.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(citing).toEqual([]);
  });

  it('keep the laptop runtime out of what is deployed: nothing under infra/ or lambdas/ imports local/', () => {
    const deployed = tracked.filter(
      (f) => /^(infra|lambdas)\//.test(f) && f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    expect(deployed.length).toBeGreaterThan(50);
    expect(deployed.filter((f) => /from '(\.\.\/)+local\//.test(read(f)))).toEqual([]);
  });

  it('repeat no run of six identical production lines under lambdas/ (one rule, one place)', () => {
    const production = tracked.filter(
      (f) => f.startsWith('lambdas/') && f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    expect(repeatedRuns(new Map(production.map((f) => [f, read(f)])))).toEqual([]);
  });

  it('would see a repeated run', () => {
    const block = [
      'const a = 1;',
      'const b = a + 1;',
      'if (b > a) {',
      '  call(a);',
      '  call(b);',
      '}',
      'return b;',
    ];
    const other = ['let x = 0;', 'x++;', 'x--;', 'log(x);', 'log(x + 1);', 'done();'];
    const found = repeatedRuns(
      new Map([
        ['one.ts', ['// one', ...block].join('\n')],
        ['two.ts', ['import { a } from "a";', '', ...block.map((l) => `    ${l}`)].join('\n')],
        ['three.ts', other.join('\n')],
      ]),
    );
    expect(found).toEqual(['one.ts:2 ~ two.ts:3']);
  });

  it('would see a conflict marker and an outside citation', () => {
    expect(CONFLICT_MARKER.test(`text\n${'<'.repeat(7)} HEAD\nmore`)).toBe(true);
    expect(CONFLICT_MARKER.test('a setext heading\n=======\n')).toBe(false);
    expect(OUTSIDE_CITATION.test('// see BRIEF §4')).toBe(true);
    expect(OUTSIDE_CITATION.test('// fixed in issue 7')).toBe(true);
    expect(OUTSIDE_CITATION.test('// README "The sweep"')).toBe(false);
  });
});
