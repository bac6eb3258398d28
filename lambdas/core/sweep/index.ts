export { DEFAULT_DUE_SOON_DAYS, DUE_SOON_DAYS_ENV, dueSoonDaysFromEnv, STALL_GRACE_MS } from './settings';
export {
  type Liveness,
  STALLED_CODE,
  type SweepDeps,
  type SweepLog,
  type SweepReport,
  type SweepResult,
  sweep,
  sweepReport,
} from './sweep';
