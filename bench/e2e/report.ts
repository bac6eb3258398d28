/**
 * Reporting `bench:e2e`: the console table, the plot, and the README's Performance section, all
 * from `BatchResult`s (a fresh run or `bench/results/e2e.json`). Every target the text names is read
 * from `targets.ts`; every other number from the results and their settings.
 */
import { BRAND_BUCKET } from '../../lambdas/core/qualtrics/endpoints';
import { bucketTable } from '../../lambdas/core/rate-limiter/index';
import { round } from '../lib/stats';
import type { LineChart } from '../lib/svg-plot';
import { formatTable, markdownTable } from '../lib/table';
import { PRICES } from './cost';
import type { BatchResult, LagStats, RunSettings } from './result';
import { fixed2, judge, judgedRatio, type Miss, ratioMax, TARGETS } from './targets';

/** The README heading this module writes under; the section runs to the next `## ` heading. */
export const README_HEADING = '## Performance';

// ---- console ----

const COLUMNS = [
  { key: 'batch' },
  { key: 'accessCount', title: 'access' },
  { key: 'deletionCount', title: 'deletion' },
  { key: 'timeScale', title: 'time ×' },
  { key: 'failed' },
  { key: 'makespanSec' },
  { key: 'lowerBoundSec' },
  { key: 'boundRatio' },
  { key: 'bindingBucket', title: 'binding bucket' },
  { key: 'pacedRatio' },
  { key: 'status429' },
  { key: 'maxWindowRatio' },
  { key: 'costAccess', title: 'access $/1000' },
  { key: 'costDeletion', title: 'deletion $/1000' },
  { key: 'lagAccess', title: 'access lag p50/p95' },
  { key: 'lagDeletion', title: 'deletion lag p50/p95' },
  { key: 'peakRssMb' },
  { key: 'eventLoopUtilization', title: 'busy' },
  { key: 'realSeconds', title: 'real s' },
];

const lag = (l: LagStats) => `${l.p50 ?? '–'} / ${l.p95 ?? '–'}`;

/** The plain-text table the bench prints, and the verdict under it. */
export function consoleReport(results: readonly BatchResult[], totalSeconds: number): string {
  const rows = results.map((r) => ({
    ...r,
    costAccess: r.costPer1000RequestsUsd.access,
    costDeletion: r.costPer1000RequestsUsd.deletion,
    lagAccess: lag(r.pollLagSec.access),
    lagDeletion: lag(r.pollLagSec.deletion),
  }));
  const misses = judge(results);
  const verdict =
    misses.length === 0
      ? `targets: every target met; ${totalSeconds} s`
      : `targets: ${misses.length} missed; ${totalSeconds} s\n  ${misses.map((m) => m.text).join('\n  ')}`;
  return `${formatTable(rows, COLUMNS)}\n${verdict}\n`;
}

// ---- plot ----

/** Bucket names short enough for the plot's legend, and one colour per bucket in every chart. */
const SHORT_NAMES: Record<string, [string, string]> = {
  createErasureRequest: ['erasure create', '#ff7f0e'],
  getErasureRequest: ['erasure poll', '#1f77b4'],
  listErasureRequests: ['erasure list', '#17becf'],
  createCustomerDataRequest: ['data job create', '#8c564b'],
  getCustomerDataRequest: ['data job poll', '#9467bd'],
  downloadCustomerDataFile: ['file download', '#2ca02c'],
  searchDirectoryContacts: ['contact search', '#d62728'],
  getDirectoryContact: ['contact get', '#e377c2'],
  listDirectories: ['directory list', '#bcbd22'],
};

/** Calls in the trailing simulated minute ÷ the bucket's Qualtrics limit, over simulated time. */
export function plotOf(
  r: BatchResult,
  admittedByBucket: Map<string, number[]>,
  span: { t0: number; t1: number; stepSec: number; targetUtilization: number },
): LineChart {
  const scale = r.timeScale;
  const windowMs = 60_000 * scale;
  const stepMs = span.stepSec * 1000 * scale;
  const series = r.buckets
    .filter((b) => b.bucket !== BRAND_BUCKET)
    .slice(0, 6)
    .map((b) => {
      const times = [...(admittedByBucket.get(b.bucket) ?? [])].sort((x, y) => x - y);
      const points: Array<[number, number]> = [];
      let lo = 0;
      let hi = 0;
      for (let t = span.t0; t <= span.t1 + stepMs; t += stepMs) {
        while (hi < times.length && times[hi]! <= t) hi++;
        while (lo < hi && times[lo]! <= t - windowMs) lo++;
        points.push([round((t - span.t0) / scale / 60_000, 3)!, round((hi - lo) / b.limitPerMinute, 3)!]);
      }
      return {
        name: `${SHORT_NAMES[b.bucket]?.[0] ?? b.bucket} ${b.limitPerMinute}/m`,
        color: SHORT_NAMES[b.bucket]?.[1] ?? '#777777',
        points,
      };
    });
  return {
    title: `batch ${r.batch} (${r.accessCount} access + ${r.deletionCount} deletion): calls in the last minute ÷ Qualtrics' limit`,
    xLabel: 'simulated minutes since the batch started',
    yLabel: 'share of the limit',
    series,
    width: 1000,
    yMax: 1.1,
    referenceLines: [
      { y: 1, label: 'Qualtrics limit', color: '#d62728', dash: '8 4' },
      {
        y: span.targetUtilization,
        label: `target (× ${span.targetUtilization})`,
        color: '#2ca02c',
        dash: '3 3',
      },
    ],
  };
}

// ---- README ----

const percent = (share: number) => `${round(share * 100, 1)} %`;

const simulatedSeconds = (sec: number) => {
  const n = round(sec, 1);
  return `${n} simulated second${n === 1 ? '' : 's'}`;
};

/** `10, 100 and 500`. */
function listed(items: readonly (string | number)[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The limiter's plan of the erasure-create bucket at this run's utilization: burst and pacing. */
function erasureCreatePlan(targetUtilization: number): { burst: number; emissionSec: number } {
  const plan = bucketTable({ targetUtilization }).find((b) => b.bucket === 'createErasureRequest');
  return { burst: plan?.burst ?? 1, emissionSec: (plan?.emissionMs ?? 4000) / 1000 };
}

/** The least an erasure chain can take at the target rate: the last create, then the job itself. */
function erasurePipeline(r: BatchResult, targetUtilization: number) {
  const { burst, emissionSec } = erasureCreatePlan(targetUtilization);
  const createdBy = Math.max(0, r.deletionCount - burst) * emissionSec;
  return { burst, emissionSec, createdBy, drain: r.longestJobSec, total: createdBy + r.longestJobSec };
}

/** The README "Performance" section: the command, the table, the targets and verdict, per-request figures. */
export function readmeSection(results: readonly BatchResult[], settings: RunSettings): string {
  const u = settings.targetUtilization;
  const rows = results.map((r) => ({
    batch: r.batch,
    mix: `${r.accessCount} + ${r.deletionCount}`,
    scale: r.timeScale,
    makespan: Math.round(r.makespanSec),
    bound: Math.round(r.lowerBoundSec),
    ratio: r.boundRatio,
    binding: r.bindingBucket,
    paced: r.pacedRatio,
    judged: `${judgedRatio(r)} ≤ ${fixed2(ratioMax(judgedRatio(r)))}`,
    s429: r.status429,
    window: r.maxWindowRatio,
    costA: round(r.costPer1000RequestsUsd.access ?? undefined, 2),
    costD: round(r.costPer1000RequestsUsd.deletion ?? undefined, 2),
    lagA: lag(r.pollLagSec.access),
    lagD: lag(r.pollLagSec.deletion),
    rss: Math.round(r.peakRssMb),
  }));
  const largest = results.at(-1);
  const misses = judge(results);
  const lagTargets = results[0]?.pollLagTargetSec;
  const paced = results.filter((r) => judgedRatio(r) === 'pacedRatio');
  const { emissionSec } = erasureCreatePlan(u);
  const mix =
    settings.deletionShare === 0.5
      ? 'half access and half deletion'
      : `${percent(settings.deletionShare)} of them deletions`;
  return `${README_HEADING}

\`npm run bench:e2e\` runs batches of ${listed(results.map((r) => r.batch))} concurrent privacy requests,
${mix}, each for its own subject, end to end: the real state machines in the local engine,
the real handlers, DynamoDB (dynalite) and S3 (s3rver), against the Qualtrics simulator with its
rate limits enforced (a customer-data job takes ${settings.simulator.customerDataJobSec} s, an erasure ${settings.simulator.erasureJobSec} s). Time is compressed: the
simulator's clock, every wait of the connector and the limiter's minute run \`time ×\` as long, and
every duration below is in simulated seconds. One process does it all (Node ${settings.node}, ${settings.cpus} CPUs);
the whole run took ${Math.round(settings.totalSeconds)} s.

${markdownTable(rows, [
  { key: 'batch' },
  { key: 'mix', title: 'access + deletion' },
  { key: 'scale', title: 'time ×' },
  { key: 'makespan', title: 'makespan s' },
  { key: 'bound', title: 'lower bound s' },
  { key: 'ratio', title: 'boundRatio' },
  { key: 'binding', title: 'binding bucket' },
  { key: 'paced', title: 'pacedRatio' },
  { key: 'judged', title: 'judged by' },
  { key: 's429', title: '429s' },
  { key: 'window', title: 'max window ÷ limit' },
  { key: 'costA', title: 'access $/1000' },
  { key: 'costD', title: 'deletion $/1000' },
  { key: 'lagA', title: 'access poll lag p50 / p95 s' },
  { key: 'lagD', title: 'deletion poll lag p50 / p95 s' },
  { key: 'rss', title: 'peak RSS MB' },
])}

Targets (\`bench/e2e/targets.ts\`; the run is judged against them and this section is generated
from its figures):

- **makespan**: a batch whose lower bound is its longest job${paced.length > 0 ? ` (batch ${listed(paced.map((r) => r.batch))})` : ''} within
  \`pacedRatio\` ≤ ${fixed2(TARGETS.pacedRatioMax)}; every other batch within \`boundRatio\` ≤ ${fixed2(TARGETS.boundRatioMax)}.
- **Qualtrics' limits**: in every batch ${TARGETS.status429Max === 0 ? 'no 429' : `at most ${TARGETS.status429Max} 429s`}, and at most ${fixed2(TARGETS.maxWindowRatioMax)} of a limit in any sliding
  minute of one bucket.
- **cost**: access requests at most $${fixed2(TARGETS.accessCostPer1000UsdMax)} per 1,000.
- **poll lag** p95: at most ${percent(TARGETS.pollLag.jobDurationShare)} of the job duration plus ${TARGETS.pollLag.minPollIntervals === 1 ? 'one minimum poll interval' : `${TARGETS.pollLag.minPollIntervals} minimum poll intervals`}
  (${lagTargets?.access} s for access, ${lagTargets?.deletion} s for deletion).

${verdict(results, misses, u)}
- **lower bound**: no connector can finish sooner than the calls it made in a rate-limit bucket
  divided by Qualtrics' limit for that bucket (at 100 %), nor sooner than the longest Qualtrics job;
  \`boundRatio\` = makespan ÷ that. Running at ${percent(u)} of every limit alone makes it ${round(1 / u, 2)}.
  \`pacedRatio\` divides by the same bound for a connector held to ${percent(u)} (and to the limiter's burst):
  the last erasure of a batch cannot be created before ${emissionSec} s × the erasures ahead of it beyond the burst, and then takes
  ${settings.simulator.erasureJobSec} s. What \`pacedRatio\` shows above 1 is engine, polling and ramp-up.
- **max window ÷ limit**: the most calls Qualtrics (the simulator) admitted in any sliding minute of
  one bucket, over its limit. ${windowNote(results, u)}
- **cost** per 1,000 requests, Qualtrics excluded, from what each request used and public
  us-east-1 prices: Step Functions Standard $0.025 per 1,000 state transitions, Lambda $0.20 per
  million requests plus $${PRICES.lambdaPerGbSecond} per GB-second (Arm, as deployed) at the catalog memory (the measured handler time
  plus ${PRICES.assumedQualtricsLatencyMs} ms per Qualtrics call for a real tenant's latency), DynamoDB on-demand $0.625 per
  million write and $0.125 per million read request units, S3 $0.005 per 1,000 PUT/COPY/LIST and
  $0.0004 per 1,000 GET.
- **poll lag**: from the simulator marking a job complete to the poll that saw it.
${paced.length > 0 ? `\n${pacedNote(paced, u)}\n` : ''}
Per request, batch ${largest?.batch}:

${markdownTable(perRequestRows(largest), [
  { key: 'type' },
  { key: 'transitions', title: 'state transitions' },
  { key: 'invocations', title: 'Lambda invocations' },
  { key: 'gbs', title: 'Lambda GB-s' },
  { key: 'writes', title: 'DynamoDB writes' },
  { key: 'reads', title: 'DynamoDB reads' },
  { key: 'puts', title: 'S3 puts' },
  { key: 'cost', title: '$/1000' },
  { key: 'split', title: 'SFN / Lambda / DynamoDB / S3' },
  { key: 'calls', title: 'Qualtrics calls' },
])}

Plot: [bench/results/e2e.svg](bench/results/e2e.svg), for each batch the calls of the busiest
buckets in the last simulated minute as a share of Qualtrics' limit. Raw figures:
\`bench/results/e2e.json\`.

A bulk submission to \`serve\` (1,000 and 2,000 requests POSTed at once, \`npm run bench:load\`) is
measured separately: [Bulk submissions to serve](#bulk-submissions-to-serve).
`;
}

function perRequestRows(r: BatchResult | undefined): Record<string, unknown>[] {
  if (!r) return [];
  return (['access', 'deletion'] as const).flatMap((type) => {
    const f = r.perRequest[type];
    if (!f) return [];
    const calls = Object.entries(r.qualtricsCallsPerRequest[type])
      .filter(([k]) => k !== 'token')
      .map(([k, v]) => `${k} ${round(v, 2)}`)
      .join(', ');
    return [
      {
        type,
        transitions: round(f.stateTransitions, 1),
        invocations: round(f.lambdaInvocations, 1),
        gbs: round(f.lambdaGbSeconds, 1),
        writes: `${round(f.dynamoDbWrites, 1)} (${round(f.dynamoDbWriteUnits, 1)} WRU)`,
        reads: round(f.dynamoDbReads, 1),
        puts: round(f.s3Puts, 1),
        cost: round(f.costPer1000RequestsUsd, 2),
        split: (['stepFunctions', 'lambda', 'dynamoDb', 's3'] as const)
          .map((k) => round(f.costBreakdownPer1000Usd[k], 3))
          .join(' / '),
        calls,
      },
    ];
  });
}

/** "Every batch met every target", or the misses and why they happened. */
function verdict(results: readonly BatchResult[], misses: readonly Miss[], u: number): string {
  if (misses.length === 0) return 'Every batch met every target in this run.\n';
  return `Targets missed in this run:\n\n${misses.map((m) => `- ${m.text}`).join('\n')}\n${whyMissed(results, misses, u)}`;
}

/** What the max window figures say against the limiter's own worst case (README text). */
function windowNote(results: readonly BatchResult[], u: number): string {
  const table = bucketTable({ targetUtilization: u });
  const worst = new Map(table.map((b) => [b.bucket, b.worstCasePerPeriod / b.limitPerPeriod]));
  const over = results.filter((r) => r.maxWindowRatio > (worst.get(r.maxWindowBucket) ?? 1) + 1e-9);
  const share = (limit: number) => {
    const b = table.find((x) => x.limitPerPeriod === limit);
    return b ? round(b.worstCasePerPeriod / b.limitPerPeriod, 2) : '–';
  };
  const base =
    `The limiter admits at most the target, its burst and a 2-s grace in any minute (${share(20)} of the limit for ` +
    `the 20-a-minute buckets, ${share(100)} for the 100-a-minute ones).`;
  if (over.length === 0) return `${base} No batch went past that.`;
  return (
    `${base} ${over.map((r) => `Batch ${r.batch} did (${r.maxWindowBucket}, ${r.maxWindowRatio}, in the minute up to ${r.maxWindowEndSec} s)`).join('; ')}: ` +
    'early in a batch one process runs the first steps of every request (QDSR_LOCAL_CONCURRENCY at a time), and ' +
    'dynalite, in the same event loop, answers the limiter late: a slot is taken relative to when the limiter ' +
    'asked, so an answer that comes seconds late grants a slot seconds in the past, and calls go out bunched. ' +
    'In AWS those writes take milliseconds.'
  );
}

/** What the engine adds beyond the paced pipeline (README text). */
function rampUp(r: BatchResult, pipelineSec: number): string {
  return (
    `The batch took ${round(r.makespanSec - pipelineSec, 0)} s more: the first creates come only once the engine ` +
    "has run the batch's first steps (one process, QDSR_LOCAL_CONCURRENCY steps at a time; at ×" +
    `${r.timeScale} a second of it is ${simulatedSeconds(1 / r.timeScale)}), and erasures created ` +
    'before any had ended poll before they are done (each "not yet" is a lower bound the later first polls wait ' +
    'for, but the first ones spend status polls), and new erasures wait while those polls queue (a job starts ' +
    'only while its status polls do not queue).'
  );
}

/** Why a batch bound by its longest job is judged by pacedRatio, from its own figures (README text). */
function pacedNote(paced: readonly BatchResult[], u: number): string {
  const lines = paced.map((r) => {
    if (r.deletionCount === 0) {
      return `- batch ${r.batch}: the bound is the longest job (${r.longestJobSec} s); pacedRatio ${r.pacedRatio}.`;
    }
    const p = erasurePipeline(r, u);
    const fitting = p.burst + Math.floor(((TARGETS.boundRatioMax - 1) * p.drain) / p.emissionSec);
    return (
      `- batch ${r.batch} (boundRatio ${r.boundRatio}, pacedRatio ${r.pacedRatio}): the bound is the longest job, a ${p.drain}-s erasure. ` +
      `Held to ${percent(u)} with a burst of ${p.burst}, the last of ${r.deletionCount} erasures cannot be created before ` +
      `${p.createdBy} s and then runs its ${p.drain} s, so ${p.total} s (${round(p.total / r.lowerBoundSec, 2)} × the bound) ` +
      `is the least any connector at the target can take. Against a ${p.drain}-s bound no more than ${fitting} erasures ` +
      `fit under boundRatio ${fixed2(TARGETS.boundRatioMax)} at the target rate; a larger burst would let more start together, but on a 20-a-minute ` +
      'endpoint each extra call in a minute is 5 % of the limit, which the limiter keeps as margin. One erasure ' +
      'for several subjects (Qualtrics takes a list of emails) would fit here, but it moves the bound of a ' +
      'larger batch to its file downloads, which cannot start before the first job has ended: at batch 100 ' +
      `that is 20 s of job and 80 s of downloads at ${percent(u)}, 1.67 × a 60-s bound. Not done: it would also put ` +
      `several people's emails into one Qualtrics record and one failure. ${rampUp(r, p.total)}`
    );
  });
  return `Why a batch bound by its longest job is judged by \`pacedRatio\`:\n\n${lines.join('\n')}`;
}

/** Why the misses of this run happened, from its own figures (README text). */
function whyMissed(results: readonly BatchResult[], misses: readonly Miss[], u: number): string {
  const out: string[] = [];
  const missed = (r: BatchResult, target: Miss['target']) =>
    misses.some((m) => m.batch === r.batch && m.target === target);
  for (const r of results.filter((x) => missed(x, 'boundRatio'))) {
    const p = erasurePipeline(r, u);
    const polls = round((r.qualtricsCallsPerRequest.deletion.getErasureRequest ?? 0) * r.deletionCount, 0);
    const max = TARGETS.boundRatioMax;
    out.push(
      `- batch ${r.batch} (boundRatio ${r.boundRatio}): the bound is ${r.lowerBoundSec} s of ${r.bindingBucket} calls ` +
        `(${polls} polls of ${r.deletionCount} erasures at 100 % of 20 a minute). Held to ${percent(u)} with a burst of ` +
        `${p.burst}, the last of ${r.deletionCount} erasures cannot be created before ${p.createdBy} s and then runs its ` +
        `${p.drain} s, so ${p.total} s is the least any connector at the target can take: that leaves ` +
        `${round(max * r.lowerBoundSec - p.total, 0)} s for everything else, and below about ` +
        `${Math.ceil((p.drain - p.burst * p.emissionSec) / ((max - 1 / u) * 3))} deletions nothing at all ` +
        `(the last erasure's ${p.drain} s come on top of the paced creates however large the batch). ${rampUp(r, p.total)}`,
    );
  }
  for (const r of results.filter((x) => missed(x, 'pacedRatio'))) {
    out.push(`- batch ${r.batch} (pacedRatio ${r.pacedRatio}): ${rampUp(r, r.pacedBoundSec)}`);
  }
  for (const r of results.filter((x) => missed(x, 'pollLag'))) {
    const perJob = (type: 'access' | 'deletion', endpoint: string) =>
      round(r.qualtricsCallsPerRequest[type][endpoint] ?? 0, 2);
    out.push(
      `- poll lag at batch ${r.batch} (access p95 ${r.pollLagSec.access.p95} s, deletion p95 ${r.pollLagSec.deletion.p95} s; ` +
        `${perJob('access', 'getCustomerDataRequest')} customer-data and ${perJob('deletion', 'getErasureRequest')} erasure polls per job): ` +
        "a status endpoint has the create endpoint's limit, so at full speed each job has one poll to spend. Jobs " +
        'started before any of the batch\'s jobs had ended have only a lower bound (a "not yet") to aim their first ' +
        'poll at, and those extra polls queue behind each other; the queue is bounded (jobs are started only while ' +
        'it is short) but it is news late for every job in it. At the start of a batch the engine itself is the ' +
        `bottleneck too: at ×${r.timeScale}, a second of it delays a poll by ${simulatedSeconds(1 / r.timeScale)}.`,
    );
  }
  return out.length > 0 ? `\nWhy:\n\n${out.join('\n')}\n` : '';
}
