import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * How `npm test` runs (README, Development):
 *
 * - Test files run in parallel, one more at a time than there are cores (3 on a 2-core machine):
 *   vitest's default (one worker less than the cores) would run them one by one there, and the
 *   end-to-end files spend part of their time waiting on child processes, compressed Waits and
 *   loopback servers (a minute of a run in all), which a file more fills.
 * - `e2e`: every file in a fresh process (the end-to-end files set env and logger levels before
 *   their imports, start servers, wrap globals). The slow suites start first (SLOW_FIRST), so none
 *   is left running alone at the end; within a rank, the longest last time (vitest's cache) first.
 * - `unit`: unit tests that leave no state behind (no env, globals, module mocks or servers left
 *   over when they end) share their worker's modules instead of importing the AWS SDK, zod and
 *   aws-cdk-lib again per file. A file that changes process-wide state belongs in `e2e`: every
 *   file not listed in UNIT is.
 * - `real-clock`, last and alone: the one file that measures a rate on the real clock (the
 *   limiter's concurrent workers, in windows of 750 ms), so no other file takes its CPU meanwhile.
 */

const TESTS = [
  'test/**/*.test.ts',
  'lambdas/**/*.test.ts',
  'local/**/*.test.ts',
  'infra/**/*.test.ts',
  'bench/**/*.test.ts',
  'statemachines/**/*.test.ts',
];
const REAL_CLOCK = ['lambdas/core/rate-limiter/rate-limiter.test.ts'];
const UNIT = [
  'bench/e2e/*.test.ts',
  'lambdas/core/api/*.test.ts',
  'lambdas/core/aws-errors.test.ts',
  'lambdas/core/config.test.ts',
  'lambdas/core/evidence.test.ts',
  'lambdas/core/execution-names.test.ts',
  'lambdas/core/ledger/*.test.ts',
  'lambdas/core/qualtrics/*.test.ts',
  'lambdas/core/rate-limiter/all-old.test.ts',
  'lambdas/core/rate-limiter/gcra.test.ts',
  'lambdas/core/report/*.test.ts',
  'lambdas/core/request-contract.test.ts',
  'lambdas/core/request-store/ledger-queries.test.ts',
  'lambdas/core/request-store/ledger.test.ts',
  'lambdas/core/request-store/update-expression.test.ts',
  // The steps' tests over dynalite and s3rver (test/support/local-storage.ts restores the env).
  'lambdas/core/workflow/creates.test.ts',
  'lambdas/core/workflow/customer-data.test.ts',
  'lambdas/core/workflow/directories.test.ts',
  'lambdas/core/workflow/erasure.test.ts',
  'lambdas/core/workflow/job-durations.test.ts',
  'lambdas/core/workflow/record.test.ts',
  'lambdas/core/workflow/report.test.ts',
  'lambdas/core/workflow/throttle.test.ts',
  'lambdas/core/workflow/wait.test.ts',
  'lambdas/handlers/index.test.ts',
  'lambdas/middleware/middleware.test.ts',
  'local/api/*.test.ts',
  'local/api/operator-page/*.test.ts',
  'local/aws/*.test.ts',
  'local/cli/backend/*.test.ts',
  'local/cli/import-csv.test.ts',
  'local/cli/progress.test.ts',
  'local/engine/workflows.test.ts',
  'local/owner/owner-file.test.ts',
  'local/runtime.test.ts',
  'local/simulator/*.test.ts',
  'statemachines/*.test.ts',
  'test/faults/canaries.test.ts',
  'test/infra/*.test.ts',
  'test/support/s3rver.test.ts',
  'test/workflows/history-cost.test.ts',
];
/** Path prefixes of the slowest suites, slowest first (the end-to-end suites live under test/). */
const SLOW_FIRST = ['test/faults/fault-matrix', 'test/artifact/', 'test/cli/', 'test/'];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const path = relative(spec.project.config.root, spec.moduleId);
      const i = SLOW_FIRST.findIndex((prefix) => path.startsWith(prefix));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    const order = new Map(sorted.map((spec, i) => [spec, i]));
    return sorted.toSorted(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        rank(a) - rank(b) ||
        order.get(a)! - order.get(b)!,
    );
  }
}

export default defineConfig({
  test: {
    setupFiles: ['local/engine/polyfills.ts'],
    env: {
      CDK_VALIDATION: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: SlowFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'e2e',
          include: TESTS,
          exclude: [...configDefaults.exclude, ...REAL_CLOCK, ...UNIT],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'unit', include: UNIT, isolate: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'real-clock', include: REAL_CLOCK, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
