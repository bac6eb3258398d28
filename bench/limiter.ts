/**
 * `npm run bench:limiter`: the shared GCRA limiter on DynamoDB against the DynamoDB limiter a user
 * would pick instead (rate-limiter-flexible's RateLimiterDynamo) and the naive way (call, and on
 * 429 back off exponentially with full jitter), all driving the Qualtrics simulator with its rate
 * limits enforced and time compressed. Writes bench/results/limiter.json, limiter.svg and
 * limiter-readme-section.md (spliced into the README's "Rate limiting" section), and prints a table.
 *
 * One endpoint with a tight limit (getCustomerDataRequest, 100/min) is driven by 1, 8 and 32
 * workers that always want to call (demand ≫ the limit) for a fixed number of limit windows.
 *   gcra:   every call goes through a CallGate of one RateLimiter (one per process, as in a Lambda
 *           container or the local runtime; one gate per worker). A denied worker waits exactly the
 *           returned time (what the Step Functions Wait does) and asks again with its reservation.
 *   dynamo: rate-limiter-flexible's RateLimiterDynamo on the same dynalite, at the same 75 % target
 *           (75 points per limit window): consume(1) before each call; a rejected worker waits the
 *           msBeforeNext it is given, a 429 the Retry-After.
 *   naive:  call; on 429 sleep max(Retry-After, full-jitter exponential backoff), then call again.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DynamoDB } from '@aws-sdk/client-dynamodb';
import { RateLimiterDynamo, RateLimiterRes } from 'rate-limiter-flexible';
import { ThrottledError } from '../lambdas/core/errors';
import { ENDPOINTS, type EndpointName } from '../lambdas/core/qualtrics/endpoints';
import { bucketTable, RateLimiter } from '../lambdas/core/rate-limiter/index';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/aws/dynamo';
import { SEEDED_SUBJECT, startSimulator } from '../local/simulator/index';
import { createLimiterTable, startDynalite, type TestDynalite } from '../test/support/dynalite';
import { spliceReadmeSection } from './lib/readme';
import { apiUrl, retryAfterMs, simulatorToken } from './lib/simulator-http';
import { maxInSlidingWindow, percentile, ratePerSecond, round } from './lib/stats';
import { type LineChart, stackCharts } from './lib/svg-plot';
import { formatTable, markdownTable } from './lib/table';

const SETTINGS = {
  endpoint: 'getCustomerDataRequest' as EndpointName,
  /** A simulated minute lasts 1.5 s: target 75 calls per 1.5 s = 50 admits/s, well under dynalite's ~300 writes/s on one item. */
  timeScale: 0.025,
  targetUtilization: 0.75,
  /** Each run lasts this many limit windows. */
  windowsPerRun: Number(process.env.BENCH_LIMITER_WINDOWS ?? 10),
  workerCounts: [1, 8, 32],
  modes: ['gcra', 'dynamo', 'naive'] as const,
  /** Naive backoff, in simulated seconds (scaled like everything else): 1 s doubling, capped at 60 s. */
  naiveBackoffBaseSeconds: 1,
  naiveBackoffCapSeconds: 60,
  plotBinMs: 500,
};

type Mode = (typeof SETTINGS.modes)[number];

const RESULTS_DIR = join(__dirname, 'results');
const README = join(__dirname, '..', 'README.md');
/** The README section this benchmark writes (bench/limiter.test.ts checks it matches the results). */
export const LIMITER_README_HEADING = '## Rate limiting';
const TABLE_NAME = 'qdsr-rate-limiter';
const DYNAMO_TABLE_NAME = 'rate-limiter-flexible';
const windowMs = 60_000 * SETTINGS.timeScale;
const runMs = SETTINGS.windowsPerRun * windowMs;
const limitPerWindow = (() => {
  const limit = ENDPOINTS[SETTINGS.endpoint].limitPerMinute;
  if (limit === null) throw new Error(`${SETTINGS.endpoint} has no rate limit to measure`);
  return limit;
})();
const targetRatePerSec = (limitPerWindow * SETTINGS.targetUtilization) / (windowMs / 1000);

interface Row {
  mode: Mode;
  workers: number;
  targetRatePerSec: number;
  achievedRatePerSec: number | null;
  achievedRatio: number | null;
  status429: number;
  maxWindowRatio: number | null;
  ddbWritesPerAdmit: number | null;
  acquireP50Ms: number | null;
  acquireP99Ms: number | null;
  /** Calls the simulator admitted during the run (not counting a gcra worker's last reserved slot after it). */
  admitted: number;
  /** Calls sent to the simulator, 429s included. */
  requests: number;
}

interface RunTrace {
  start: number;
  admittedAt: number[];
  rejectedAt: number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function run(mode: Mode, workers: number, db: TestDynalite): Promise<{ row: Row; trace: RunTrace }> {
  const sim = await startSimulator({
    timeScale: SETTINGS.timeScale,
    enforceRateLimits: true,
    retryAfter: true,
    tokenTtlSeconds: 24 * 3600,
  });
  try {
    const token = await simulatorToken(sim.url);
    const auth = { Authorization: `Bearer ${token}` };
    const limiter = new RateLimiter({
      doc: db.doc,
      tableName: TABLE_NAME,
      tenant: `bench#${mode}-${workers}-${randomUUID()}`,
      targetUtilization: SETTINGS.targetUtilization,
      periodMs: windowMs,
    });

    // Setup: one customer-data job to poll (through the limiter in gcra mode: it is a Qualtrics call).
    if (mode === 'gcra') await admitted(limiter, 'createCustomerDataRequest');
    const created = await fetch(apiUrl(sim.url, 'createCustomerDataRequest'), {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: SEEDED_SUBJECT }),
    });
    const jobId = ((await created.json()) as { result: { customerDataRequestId: string } }).result
      .customerDataRequestId;
    const target = apiUrl(sim.url, SETTINGS.endpoint, { customerDataRequestId: jobId });
    const call = async (): Promise<Response> => {
      const res = await fetch(target, { headers: auth });
      await res.arrayBuffer();
      return res;
    };

    const dynamo =
      mode === 'dynamo' ? await flexibleDynamo(db, `bench-${workers}-${randomUUID()}`) : undefined;

    sim.resetCounters();
    const before = limiter.stats();
    const dynamoBefore = dynamo?.stats();
    const acquireMs: number[] = [];
    const rejectedAt: number[] = [];
    let requests = 0;
    const start = Date.now();
    const deadline = start + runMs;

    const gcraWorker = async () => {
      const gate = limiter.gate();
      // A worker holding a reserved slot uses it before it stops, as a waiting workflow would.
      while (Date.now() < deadline || gate.reservations().length > 0) {
        const t0 = performance.now();
        try {
          await gate.before(SETTINGS.endpoint);
        } catch (e) {
          acquireMs.push(performance.now() - t0);
          if (!(e instanceof ThrottledError)) throw e;
          await sleep(e.waitMs);
          continue;
        }
        acquireMs.push(performance.now() - t0);
        requests++;
        const res = await call();
        if (res.status === 429) rejectedAt.push(Date.now());
        const wait = retryAfterMs(res);
        await gate.after(SETTINGS.endpoint, {
          httpStatus: res.status,
          ...(res.status === 429 && wait !== undefined ? { retryAfterSeconds: wait / 1000 } : {}),
        });
      }
    };

    const dynamoWorker = async () => {
      if (!dynamo) throw new Error('no RateLimiterDynamo');
      while (Date.now() < deadline) {
        const t0 = performance.now();
        try {
          await dynamo.limiter.consume(dynamo.key, 1);
        } catch (e) {
          acquireMs.push(performance.now() - t0);
          if (!(e instanceof RateLimiterRes)) throw e;
          await sleep(Math.min(Math.max(1, e.msBeforeNext), deadline - Date.now()));
          continue;
        }
        acquireMs.push(performance.now() - t0);
        dynamo.admitted++;
        requests++;
        const res = await call();
        if (res.status !== 429) continue;
        rejectedAt.push(Date.now());
        await sleep(Math.min(retryAfterMs(res) ?? 0, deadline - Date.now()));
      }
    };

    const naiveWorker = async () => {
      let attempt = 0;
      const base = SETTINGS.naiveBackoffBaseSeconds * 1000 * SETTINGS.timeScale;
      const cap = SETTINGS.naiveBackoffCapSeconds * 1000 * SETTINGS.timeScale;
      while (Date.now() < deadline) {
        requests++;
        const res = await call();
        if (res.status !== 429) {
          attempt = 0;
          continue;
        }
        rejectedAt.push(Date.now());
        const backoff = Math.random() * Math.min(cap, base * 2 ** attempt);
        attempt++;
        await sleep(Math.min(Math.max(retryAfterMs(res) ?? 0, backoff), deadline - Date.now()));
      }
    };

    const worker = { gcra: gcraWorker, dynamo: dynamoWorker, naive: naiveWorker }[mode];
    await Promise.all(Array.from({ length: workers }, () => worker()));

    const counters = sim.counters();
    const log = counters.log.filter((e) => e.endpoint === SETTINGS.endpoint);
    const admittedAt = log.filter((e) => e.status >= 200 && e.status < 300).map((e) => e.at);
    const inRun = admittedAt.filter((t) => t >= start && t < deadline).length;
    const achieved = inRun / (runMs / 1000);
    const stats = limiter.stats();
    const admits = stats.admitted - before.admitted;
    const dynamoStats = dynamo?.stats();
    const writesPerAdmit =
      mode === 'gcra'
        ? admits > 0
          ? round((stats.writes - before.writes) / admits, 3)
          : null
        : dynamoStats && dynamoBefore && dynamoStats.admitted > dynamoBefore.admitted
          ? round(
              (dynamoStats.writes - dynamoBefore.writes) / (dynamoStats.admitted - dynamoBefore.admitted),
              3,
            )
          : null;
    const limited = mode !== 'naive';
    const row: Row = {
      mode,
      workers,
      targetRatePerSec: round(targetRatePerSec)!,
      achievedRatePerSec: round(achieved),
      achievedRatio: round(achieved / targetRatePerSec, 3),
      status429: counters.byEndpoint[SETTINGS.endpoint]?.status429 ?? 0,
      maxWindowRatio: round(maxInSlidingWindow(admittedAt, windowMs) / limitPerWindow, 3),
      ddbWritesPerAdmit: writesPerAdmit,
      acquireP50Ms: limited ? round(percentile(acquireMs, 0.5)) : null,
      acquireP99Ms: limited ? round(percentile(acquireMs, 0.99)) : null,
      admitted: inRun,
      requests,
    };
    return { row, trace: { start, admittedAt, rejectedAt } };
  } finally {
    await sim.close();
  }
}

/**
 * rate-limiter-flexible's DynamoDB limiter on the bench's dynalite, configured for the same target:
 * 75 % of the limit as points per limit window (a fixed window: its counter item expires with it).
 * Every UpdateItem it sends is counted (a failed conditional write costs a write unit too).
 */
async function flexibleDynamo(db: TestDynalite, key: string) {
  const client = new DynamoDB({
    endpoint: db.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counts = { writes: 0, admitted: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') counts.writes++;
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  const limiter = await new Promise<RateLimiterDynamo>((resolve, reject) => {
    const l: RateLimiterDynamo = new RateLimiterDynamo(
      {
        storeClient: client,
        tableName: DYNAMO_TABLE_NAME,
        // dynalite has no TTL API; expiry is checked on read either way.
        ttlSet: true,
        points: Math.floor(limitPerWindow * SETTINGS.targetUtilization),
        duration: windowMs / 1000,
      },
      (err?: unknown) => (err ? reject(err) : resolve(l)),
    );
  });
  return {
    limiter,
    key,
    get admitted() {
      return counts.admitted;
    },
    set admitted(n: number) {
      counts.admitted = n;
    },
    stats: () => ({ writes: counts.writes, admitted: counts.admitted }),
  };
}

/** Setup calls in gcra mode wait for admission like any other call. */
async function admitted(limiter: RateLimiter, endpoint: EndpointName): Promise<void> {
  const gate = limiter.gate();
  for (;;) {
    try {
      await gate.before(endpoint);
      return;
    } catch (e) {
      if (!(e instanceof ThrottledError)) throw e;
      await sleep(e.waitMs);
    }
  }
}

/** Two buckets a call, one write each, and at most 5 % of them sent again after losing a race. */
const MAX_WRITES_PER_ADMIT = 2.1;

function acceptance(rows: Row[]): string[] {
  const failures: string[] = [];
  for (const r of rows.filter((x) => x.mode === 'gcra')) {
    const at = `gcra, ${r.workers} workers`;
    if ((r.achievedRatio ?? 0) < 0.95) failures.push(`${at}: achievedRatio ${r.achievedRatio} < 0.95`);
    if (r.status429 !== 0) failures.push(`${at}: status429 ${r.status429} ≠ 0`);
    if ((r.maxWindowRatio ?? 9) > SETTINGS.targetUtilization + 0.05) {
      failures.push(`${at}: maxWindowRatio ${r.maxWindowRatio} > ${SETTINGS.targetUtilization + 0.05}`);
    }
    // One write per bucket (2), and a few repeated after a lost race (README "Rate limiting").
    if ((r.ddbWritesPerAdmit ?? 9) > MAX_WRITES_PER_ADMIT) {
      failures.push(`${at}: ddbWritesPerAdmit ${r.ddbWritesPerAdmit} > ${MAX_WRITES_PER_ADMIT}`);
    }
  }
  return failures;
}

function plot(results: Array<{ row: Row; trace: RunTrace }>): string {
  const shades: Record<Mode, string[]> = {
    gcra: ['#9ecae1', '#3182bd', '#08306b'],
    dynamo: ['#a1d99b', '#31a354', '#00441b'],
    naive: ['#fdae6b', '#e6550d', '#7f2704'],
  };
  const seriesOf = (pick: (t: RunTrace) => number[]) =>
    results.map(({ row, trace }) => ({
      name: `${row.mode}, ${row.workers} worker${row.workers === 1 ? '' : 's'}`,
      color: shades[row.mode][SETTINGS.workerCounts.indexOf(row.workers)] ?? '#777',
      ...(row.mode === 'naive' ? { dash: '6 3' } : row.mode === 'dynamo' ? { dash: '2 2' } : {}),
      points: ratePerSecond(pick(trace), trace.start, trace.start + runMs, SETTINGS.plotBinMs),
    }));
  const limitPerSec = limitPerWindow / (windowMs / 1000);
  const charts: LineChart[] = [
    {
      title: `${SETTINGS.endpoint}: calls Qualtrics (the simulator) admitted, per second`,
      xLabel: `seconds since start (one limit window = ${windowMs / 1000} s)`,
      yLabel: 'admitted calls / s',
      series: seriesOf((t) => t.admittedAt),
      referenceLines: [
        { y: limitPerSec, label: `limit (${limitPerWindow}/window)`, color: '#d62728', dash: '8 4' },
        {
          y: targetRatePerSec,
          label: `target (× ${SETTINGS.targetUtilization})`,
          color: '#2ca02c',
          dash: '3 3',
        },
      ],
    },
    {
      title: 'HTTP 429 answers per second',
      xLabel: 'seconds since start',
      yLabel: '429s / s',
      series: seriesOf((t) => t.rejectedAt),
    },
  ];
  return stackCharts(charts);
}

const COLUMNS = [
  { key: 'mode' },
  { key: 'workers' },
  { key: 'targetRatePerSec', title: 'target/s' },
  { key: 'achievedRatePerSec', title: 'achieved/s' },
  { key: 'achievedRatio' },
  { key: 'status429' },
  { key: 'maxWindowRatio' },
  { key: 'ddbWritesPerAdmit' },
  { key: 'acquireP50Ms' },
  { key: 'acquireP99Ms' },
];

/** One sentence per mode, from the measured rows. */
function comparison(rows: Row[]): string {
  const of = (mode: Mode) => rows.filter((r) => r.mode === mode);
  const range = (values: Array<number | null>) => {
    const v = values.filter((x): x is number => x !== null);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return lo === hi ? `${lo}` : `${lo}–${hi}`;
  };
  const gcra = of('gcra');
  const dynamo = of('dynamo');
  const naive = of('naive');
  return [
    `gcra held the target at every worker count (achievedRatio ${range(gcra.map((r) => r.achievedRatio))},`,
    `${range(gcra.map((r) => r.status429))} 429s, at most ${range(gcra.map((r) => r.maxWindowRatio))} of the limit in any window,`,
    `${range(gcra.map((r) => r.ddbWritesPerAdmit))} DynamoDB writes per admitted call).`,
    `rate-limiter-flexible's RateLimiterDynamo, at the same 75 % (75 points per window), counts calls in`,
    `fixed windows: each window's points go out as fast as the workers ask for them, so the end of one`,
    `window and the start of the next fall into one sliding minute (maxWindowRatio ${range(dynamo.map((r) => r.maxWindowRatio))},`,
    `achievedRatio ${range(dynamo.map((r) => r.achievedRatio))}, ${range(dynamo.map((r) => r.status429))} 429s). It costs ${range(dynamo.map((r) => r.ddbWritesPerAdmit))} DynamoDB`,
    `writes per admitted call: within a window a call sends two UpdateItems (the one that would open a new`,
    `window fails its condition first), and a denied call writes as well. The naive way runs at the`,
    `published limit itself (maxWindowRatio ${range(naive.map((r) => r.maxWindowRatio))}, hence achievedRatio`,
    `${range(naive.map((r) => r.achievedRatio))} of the 75 % target): it bursts at each window edge and then collects`,
    `${range(naive.map((r) => r.status429))} 429s per run, leaving no headroom for anything else that uses the brand.`,
  ].join('\n');
}

function readmeSection(rows: Row[], header: Record<string, unknown>): string {
  const buckets = bucketTable({ targetUtilization: SETTINGS.targetUtilization }).map((b) => ({
    bucket: b.bucket === 'brand' ? 'brand (every call)' : b.bucket,
    endpoints: b.bucket === 'brand' ? 'all but `token`' : b.endpoints.map((e) => `\`${e}\``).join(', '),
    limit: b.limitPerPeriod,
    target: b.targetPerPeriod,
    emissionMs: b.emissionMs,
    burst: b.burst,
    worstCase: b.worstCasePerPeriod,
  }));
  return `${LIMITER_README_HEADING}

Every Qualtrics call of every Lambda goes through one shared limiter (\`lambdas/core/rate-limiter\`):
the Qualtrics client asks its \`CallGate\` before each HTTP request, so no handler can reach Qualtrics
around it. The limiter is **GCRA** (the generic cell rate algorithm, the "leaky bucket as a meter")
on DynamoDB: each bucket is one item holding a single number, the theoretical arrival time \`tat\`.
With emission interval T = 60 s / (limit × \`QDSR_TARGET_UTILIZATION\`) and tolerance τ = burst × T,
a call at \`now\` is admitted iff \`tat − (τ − T) ≤ now\`, and moves \`tat\` to \`max(tat, now) + T\`.
That is done by conditional \`UpdateItem\`s only, never read-modify-write: \`SET tat = :now + T\` if the
bucket is idle, else \`SET tat = tat + T\` if \`tat\` is within reach; DynamoDB checks each condition
against the current item, so concurrent Lambdas cannot over-admit. A call that does not fit yet
*reserves* the next free slot with that same write and gets the exact wait (a Step Functions Wait
until that instant, carrying the reservation): waiting callers do not race for the same slot, so
each admitted call costs one write per bucket, and a second one when its first write's condition
failed because another worker had just taken the bucket (the failed condition is what stops an
over-admission; under 1 % of the calls even with 32 workers on one bucket, below). Each call needs its endpoint's bucket and the brand
bucket; keys include the tenant (datacenter and OAuth client), so tenants never share a bucket.
A slot is judged against the time the call is sent, when DynamoDB's answer arrives: one whose
instant passed by more than the reservation grace while the answer was on its way (a slow DynamoDB)
is not used at once; the call waits out its slot's offset from when it asked, so calls granted one
interval apart still leave one interval apart instead of together.
If DynamoDB cannot be reached, no Qualtrics call is made (\`RateLimiter.Unavailable\`, retryable).
A 429 that still arrives pushes both buckets forward (by \`Retry-After\`, else 6 s) for every worker.

Qualtrics gives each job's status endpoint the same limit as its create endpoint, so at full speed
there is one status poll per job to spend. Two rules keep polls from queueing behind each other:
a call that starts a job (customer-data request, erasure) is admitted only while the bucket its
status is polled through is booked at most 5 s ahead (a job started while polls queue adds no
throughput, only delay to the news of every job before it); and the first poll of a job waits for the
duration this tenant's jobs of that kind have shown (\`lambdas/core/workflow/job-durations.ts\`:
Qualtrics' own \`created\`/\`updated\` stamps of an erasure, or the end a customer-data job's
\`percentComplete\` projects), instead of spending the slot on a "not yet". Before any job of the
kind has ended, a "not yet" at some age is remembered as a lower bound (only ever raised, and
replaced by the first measured duration), and a first poll due before it waits for it without
calling Qualtrics: the first jobs of a batch do not each ask at ages another one already asked at.

Where the limits come from, and how sure we are of each, is in
[docs/qualtrics-api.md](docs/qualtrics-api.md#rate-limits).

Buckets at the default target utilization of 0.75 (limits from the endpoint table; the worst case
is the most calls any 60-s window can see, burst and the 2-s reservation grace included):

${markdownTable(buckets, [
  { key: 'bucket' },
  { key: 'endpoints' },
  { key: 'limit', title: 'Qualtrics limit/min' },
  { key: 'target', title: 'target/min' },
  { key: 'emissionMs', title: 'T (ms)' },
  { key: 'burst' },
  { key: 'worstCase', title: 'worst case/min' },
])}

Measured with \`npm run bench:limiter\` (${SETTINGS.endpoint}, limit ${limitPerWindow}/min, time compressed
×${SETTINGS.timeScale} so a minute lasts ${windowMs / 1000} s, ${SETTINGS.windowsPerRun} windows per run,
workers that always want to call; gcra and rate-limiter-flexible's RateLimiterDynamo (\`dynamo\`, 75
points per window) on the same dynalite, naive = call and back off exponentially with full jitter on
429, honouring Retry-After; Node ${header.node}, ${header.cpus} CPUs):

${markdownTable(rows as unknown as Record<string, unknown>[], COLUMNS)}

${comparison(rows)}

\`maxWindowRatio\` is the most calls the simulator admitted in any sliding limit window divided by
the Qualtrics limit; \`ddbWritesPerAdmit\` counts every UpdateItem sent, failed conditions and
denied calls included, per call admitted; \`acquire\` is the time of one limiter decision (DynamoDB
round trips), not the wait.
Plot: [bench/results/limiter.svg](bench/results/limiter.svg). Raw figures: \`bench/results/limiter.json\`.
`;
}

async function main(): Promise<void> {
  // Node 20 is this project's runtime; the SDK's notice about future versions is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const began = Date.now();
  const db = await startDynalite();
  await createLimiterTable(db.client, TABLE_NAME);
  const results: Array<{ row: Row; trace: RunTrace }> = [];
  try {
    for (const workers of SETTINGS.workerCounts) {
      for (const mode of SETTINGS.modes) {
        process.stderr.write(`bench:limiter ${mode} × ${workers} workers (${runMs / 1000} s)…\n`);
        results.push(await run(mode, workers, db));
      }
    }
  } finally {
    await db.close();
  }
  const rows = results.map((r) => r.row);
  const header = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    endpoint: SETTINGS.endpoint,
    qualtricsLimitPerMinute: limitPerWindow,
    targetUtilization: SETTINGS.targetUtilization,
    timeScale: SETTINGS.timeScale,
    windowMs,
    runMs,
    windowsPerRun: SETTINGS.windowsPerRun,
    workerCounts: SETTINGS.workerCounts,
    limiter: {
      periodMs: windowMs,
      burst: 'default (1 % of the limit, ≥ 1)',
      reservationGraceMs: windowMs / 30,
    },
    naiveBackoff: {
      baseMs: SETTINGS.naiveBackoffBaseSeconds * 1000 * SETTINGS.timeScale,
      capMs: SETTINGS.naiveBackoffCapSeconds * 1000 * SETTINGS.timeScale,
      jitter: 'full',
      retryAfter: 'honoured (the simulator’s exact X-Simulator-Retry-After-Ms)',
    },
    dynamodb: 'dynalite 4 in-process',
    dynamoLimiter: {
      library: 'rate-limiter-flexible 11.4.0, RateLimiterDynamo',
      points: Math.floor(limitPerWindow * SETTINGS.targetUtilization),
      durationSeconds: windowMs / 1000,
    },
    totalSeconds: 0,
  };
  header.totalSeconds = round((Date.now() - began) / 1000, 1)!;
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    join(RESULTS_DIR, 'limiter.json'),
    `${JSON.stringify({ settings: header, rows }, null, 2)}\n`,
  );
  await writeFile(join(RESULTS_DIR, 'limiter.svg'), plot(results));
  const section = readmeSection(rows, header);
  await writeFile(join(RESULTS_DIR, 'limiter-readme-section.md'), section);
  await writeFile(
    README,
    spliceReadmeSection(await readFile(README, 'utf8'), LIMITER_README_HEADING, section),
  );

  process.stdout.write(`${formatTable(rows as unknown as Record<string, unknown>[], COLUMNS)}\n`);
  const failures = acceptance(rows);
  process.stdout.write(
    failures.length === 0
      ? `acceptance (gcra: ratio ≥ 0.95, no 429, window ≤ u + 0.05, ≤ ${MAX_WRITES_PER_ADMIT} writes/admit): PASS in ${header.totalSeconds} s\n`
      : `acceptance FAILED:\n  ${failures.join('\n  ')}\n`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

// Run as `npm run bench:limiter`; imported (by its test) for its constants only.
if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`bench:limiter failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
