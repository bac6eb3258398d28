import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spliceReadmeSection } from '../lib/readme';
import { consoleReport, README_HEADING, readmeSection } from './report';
import type { E2eResults } from './result';
import { fixed2, TARGETS } from './targets';
import { batchResult, RUN_SETTINGS, smallBatch } from './test-support';

describe('the README Performance section', () => {
  it('states every target as targets.ts has it, and the verdict of a run that met them', () => {
    const text = readmeSection([smallBatch(), batchResult(), batchResult({ batch: 500 })], RUN_SETTINGS);
    expect(text.startsWith(`${README_HEADING}\n`)).toBe(true);
    expect(text).toContain('runs batches of 10, 100 and 500 concurrent privacy requests');
    expect(text).toContain(`(batch 10) within\n  \`pacedRatio\` ≤ ${fixed2(TARGETS.pacedRatioMax)}`);
    expect(text).toContain(`every other batch within \`boundRatio\` ≤ ${fixed2(TARGETS.boundRatioMax)}`);
    expect(text).toContain(`at most ${fixed2(TARGETS.maxWindowRatioMax)} of a limit in any sliding`);
    expect(text).toContain(`at most $${fixed2(TARGETS.accessCostPer1000UsdMax)} per 1,000`);
    expect(text).toContain('at most 10 % of the job duration plus one minimum poll interval');
    expect(text).toContain('(7 s for access, 8 s for deletion)');
    expect(text).toContain('| 10 | 5 + 5 | 1 | 52 | 30 | 1.733 | longest job | 1.13 | pacedRatio ≤ 1.20 |');
    expect(text).toContain(
      '| 100 | 50 + 50 | 0.5 | 230 | 160 | 1.4 | getErasureRequest | 1.02 | boundRatio ≤ 1.45 |',
    );
    expect(text).toContain('Every batch met every target in this run.');
    expect(text).not.toContain('Targets missed');
    // Why batch 10 is judged by pacedRatio, from its own figures.
    expect(text).toContain('the last of 5 erasures cannot be created before 16 s and then runs its 30 s');
    expect(text).toContain('Per request, batch 500:');
    // The token calls stay out of the per-request Qualtrics calls.
    expect(text).toContain('| createCustomerDataRequest 1, getCustomerDataRequest 1 |');
  });

  it('lists the misses with their reasons when a run missed targets', () => {
    const text = readmeSection(
      [smallBatch({ pacedRatio: 1.3 }), batchResult({ boundRatio: 1.6, status429: 2 })],
      RUN_SETTINGS,
    );
    expect(text).toContain(
      'Targets missed in this run:\n\n- batch 10: pacedRatio 1.3 > 1.20\n- batch 100: boundRatio 1.6 > 1.45\n- batch 100: 2 429s > 0\n',
    );
    expect(text).toContain('- batch 100 (boundRatio 1.6): the bound is 160 s of getErasureRequest calls');
    expect(text).toContain('- batch 10 (pacedRatio 1.3): The batch took 6 s more');
    expect(text).not.toContain('Every batch met every target');
  });

  it('says when a batch went past the limiter’s own worst case in a minute', () => {
    const text = readmeSection([batchResult({ maxWindowRatio: 0.85, maxWindowEndSec: 42 })], RUN_SETTINGS);
    expect(text).toContain('Batch 100 did (getErasureRequest, 0.85, in the minute up to 42 s)');
    expect(text).toContain('- batch 100: maxWindowRatio 0.85 (getErasureRequest) > 0.80');
  });

  it('is what README.md holds, generated from bench/results/e2e.json', () => {
    const root = join(__dirname, '..', '..');
    const stored = JSON.parse(readFileSync(join(root, 'bench/results/e2e.json'), 'utf8')) as E2eResults;
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    // `npm run bench:e2e -- --report-only` makes it so.
    expect(spliceReadmeSection(readme, README_HEADING, readmeSection(stored.batches, stored.settings))).toBe(
      readme,
    );
  });
});

describe('spliceReadmeSection', () => {
  const readme = '# t\n\nintro\n\n## Performance\n\nold\n\n### sub\n\nold too\n\n## Development\n\nkept\n';

  it('replaces the section up to the next level-2 heading and keeps everything else', () => {
    expect(spliceReadmeSection(readme, README_HEADING, '## Performance\n\nnew\n')).toBe(
      '# t\n\nintro\n\n## Performance\n\nnew\n\n## Development\n\nkept\n',
    );
  });

  it('replaces to the end when the section is the last one', () => {
    expect(
      spliceReadmeSection('# t\n\n## Performance\n\nold\n', README_HEADING, '## Performance\n\nnew\n'),
    ).toBe('# t\n\n## Performance\n\nnew\n');
  });

  it('refuses a README without the heading', () => {
    expect(() => spliceReadmeSection('# t\n\n## Other\n', README_HEADING, '## Performance\n')).toThrow(
      /no "## Performance"/,
    );
  });
});

describe('consoleReport', () => {
  it('prints the table and every miss', () => {
    const out = consoleReport([smallBatch(), batchResult({ failed: 1, completed: 99 })], 12.5);
    expect(out).toMatch(/^batch\s+access\s+deletion/);
    expect(out).toContain('targets: 1 missed; 12.5 s\n  batch 100: 1 request(s) did not complete\n');
    expect(consoleReport([smallBatch()], 3)).toContain('targets: every target met; 3 s\n');
  });
});
