import type { RequestStatus, RequestType } from '../request-contract';
import type { Jurisdiction } from './jurisdictions';

/** A page of `GET /requests` / `qualtrics-dsr list`: every filter optional, newest receipt first. */
export interface LedgerQuery {
  status?: RequestStatus;
  type?: RequestType;
  jurisdiction?: Jurisdiction;
  /** true: open past the effective due date; false: the others. */
  overdue?: boolean;
  /** Received at or after (an ISO-8601 instant or a date `YYYY-MM-DD`, see `parseLedgerTime`). */
  since?: string;
  /** Received before (same forms). */
  until?: string;
  /** 1–500. */
  limit: number;
  /** `nextCursor` of the page before. */
  cursor?: string;
}

/** A range of receipt times (`GET /records`, `qualtrics-dsr records`): since inclusive, until exclusive. */
export interface LedgerRange {
  since?: string;
  until?: string;
}

export const LIST_LIMIT_MIN = 1;
export const LIST_LIMIT_MAX = 500;
export const LIST_LIMIT_DEFAULT = 100;
