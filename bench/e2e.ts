/**
 * `npm run bench:e2e`: batches of 10, 100 and 500 concurrent privacy requests end to end
 * (e2e/run.ts), measured per batch (e2e/measure.ts: makespan against the lower bound Qualtrics'
 * limits allow, 429s, rate windows, Qualtrics calls and AWS usage and cost per request, poll lag,
 * peak RSS), judged against the targets (e2e/targets.ts) and reported (e2e/report.ts).
 *
 * Writes bench/results/e2e.json, e2e.svg and e2e-readme-section.md, regenerates the README's
 * Performance section from them, and prints a table. Exits non-zero only when it crashes (1) or is
 * called wrongly (2): a missed target is reported, not a failure.
 *
 *   --report-only      no run: judge and report bench/results/e2e.json again (README included)
 *   --batches 10,100   only these batch sizes
 *   --time-scale F     every batch at this time scale (default: 1, 0.5, 0.25 for 10, 100, 500)
 *   --out DIR          where results go (default bench/results)
 *   --trace PATH       also write every call and state entered to PATH.<batch>.json
 *
 * The README is regenerated only from a full run at the default scales, or from --report-only,
 * into the default results directory: a smoke run (`--batches 10 --time-scale 0.25 --out /tmp/x`)
 * leaves it alone.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PRICES } from './e2e/cost';
import { consoleReport, plotOf, README_HEADING, readmeSection } from './e2e/report';
import type { BatchResult, E2eResults, RunSettings } from './e2e/result';
import { type BatchSettings, runBatch, SETTINGS } from './e2e/run';
import { spliceReadmeSection } from './lib/readme';
import { round } from './lib/stats';
import { type LineChart, stackCharts } from './lib/svg-plot';

const DEFAULT_OUT = join(__dirname, 'results');
const README = join(__dirname, '..', 'README.md');

interface Cli {
  reportOnly: boolean;
  batches: BatchSettings[];
  /** Whether the batches are the default ones at the default scales. */
  full: boolean;
  out: string;
  trace?: string;
}

class UsageError extends Error {}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    options: {
      'report-only': { type: 'boolean', default: false },
      batches: { type: 'string' },
      'time-scale': { type: 'string' },
      out: { type: 'string' },
      trace: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const positive = (raw: string, what: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(`${what} must be a positive number (got "${raw}")`);
    return n;
  };
  const sizes = values.batches?.split(',').map((b) => {
    const n = positive(b.trim(), '--batches');
    if (!Number.isInteger(n)) throw new UsageError(`--batches takes whole numbers (got "${b}")`);
    return n;
  });
  const scale =
    values['time-scale'] === undefined ? undefined : positive(values['time-scale'], '--time-scale');
  const batches = (sizes ?? SETTINGS.batches.map((b) => b.batch)).map((batch) => ({
    batch,
    timeScale: scale ?? SETTINGS.batches.find((b) => b.batch === batch)?.timeScale ?? 1,
  }));
  return {
    reportOnly: values['report-only'] ?? false,
    batches,
    full: sizes === undefined && scale === undefined,
    out: resolve(values.out ?? DEFAULT_OUT),
    trace: values.trace,
  };
}

/** Writes the README section file, and splices it into README.md when `intoReadme`. */
async function writeReadme(out: string, results: E2eResults, intoReadme: boolean): Promise<void> {
  const section = readmeSection(results.batches, results.settings);
  await writeFile(join(out, 'e2e-readme-section.md'), section);
  if (!intoReadme) {
    process.stderr.write('bench:e2e: README.md left as it is (not a full run into bench/results)\n');
    return;
  }
  await writeFile(README, spliceReadmeSection(await readFile(README, 'utf8'), README_HEADING, section));
  process.stderr.write('bench:e2e: README.md Performance section regenerated\n');
}

async function main(argv: string[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cli = parseCli(argv);
  const intoDefault = cli.out === resolve(DEFAULT_OUT);
  if (cli.reportOnly) {
    const stored = JSON.parse(await readFile(join(cli.out, 'e2e.json'), 'utf8')) as E2eResults;
    await writeReadme(cli.out, stored, intoDefault);
    process.stdout.write(consoleReport(stored.batches, stored.settings.totalSeconds));
    return;
  }
  const began = Date.now();
  const results: BatchResult[] = [];
  const charts: LineChart[] = [];
  for (const b of cli.batches) {
    const run = await runBatch(b, { tracePath: cli.trace });
    results.push(run.result);
    charts.push(
      plotOf(run.result, run.admittedByBucket, {
        t0: run.t0,
        t1: run.t1,
        stepSec: SETTINGS.plotStepSec,
        targetUtilization: SETTINGS.targetUtilization,
      }),
    );
  }
  const settings: RunSettings = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    totalSeconds: round((Date.now() - began) / 1000, 1)!,
    targetUtilization: SETTINGS.targetUtilization,
    deletionShare: SETTINGS.deletionShare,
    simulator: {
      customerDataJobSec: SETTINGS.customerDataJobMs / 1000,
      erasureJobSec: SETTINGS.erasureJobMs / 1000,
      customerDataFiles: SETTINGS.customerDataFiles,
      subjects: 'one distinct subject per request (bench/e2e/subjects.ts)',
    },
    pollMinSeconds: SETTINGS.pollMinSeconds,
    units: 'durations in simulated seconds (real seconds ÷ timeScale), except realSeconds',
    prices: PRICES,
  };
  const all: E2eResults = { settings, batches: results };
  await mkdir(cli.out, { recursive: true });
  await writeFile(join(cli.out, 'e2e.json'), `${JSON.stringify(all, null, 2)}\n`);
  await writeFile(join(cli.out, 'e2e.svg'), stackCharts(charts));
  await writeReadme(cli.out, all, intoDefault && cli.full);
  process.stdout.write(consoleReport(results, settings.totalSeconds));
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`bench:e2e: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench:e2e failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
