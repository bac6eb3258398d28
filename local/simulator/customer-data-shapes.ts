import { emailProblem } from '../../lambdas/core/privacy';
import type { SeedSurveyResponse } from './seed';

/**
 * EVERY choice the simulator makes for the customer-data (CCPA/DSAR) API, in one place.
 *
 * None of it is confirmed (docs/qualtrics-api.md#customer-data-jobs): no public copy of `ccpa.json` and
 * no open-source caller exists. The shapes are our choice, modelled on Qualtrics' response-export jobs
 * (docs/qualtrics-api.md#simulator-choices). When someone reads the real API, correct this module and
 * nothing else.
 *
 *   POST /customer-data-requests            body {"email": "<address>"}
 *     → 200 {result: {customerDataRequestId: "CDR_<15 alnum>"}}
 *   GET  /customer-data-requests/{id}
 *     → 200 {result: {status: "inProgress"|"complete"|"failed", percentComplete, fileIds: [...]}}
 *       (+ failureReason on failed). fileIds are empty until complete.
 *   GET  /customer-data-requests/{id}/files/{fileId}
 *     → 200 raw bytes (NOT enveloped), Content-Type application/json: a JSON document of the
 *       subject's survey responses. The bytes are fixed when the job completes and never change.
 *   Unknown job, or a file id that is unknown or not ready → 404 envelope (errorCode in shapes.ts).
 */

export const CUSTOMER_DATA_REQUEST_ID_PREFIX = 'CDR_';
export const CUSTOMER_DATA_FILE_ID_PREFIX = 'CDF_';

export const CUSTOMER_DATA_STATUS = {
  inProgress: 'inProgress',
  complete: 'complete',
  failed: 'failed',
} as const;

export type CustomerDataStatus = (typeof CUSTOMER_DATA_STATUS)[keyof typeof CUSTOMER_DATA_STATUS];

export const CUSTOMER_DATA_FAILURE_REASON = 'Simulated failure: the data access job could not be completed.';

export const CUSTOMER_DATA_FILE_CONTENT_TYPE = 'application/json';
export const CUSTOMER_DATA_FILE_EXTENSION = 'json';

/** Validates the create body; returns the subject's email or a reason (never echoing the input). */
export function parseCreateCustomerDataBody(body: unknown): { email: string } | { problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problem: 'body must be a JSON object with an email' };
  }
  const email = (body as Record<string, unknown>).email;
  const problem = emailProblem(email);
  if (problem) return { problem };
  return { email: email as string };
}

export function createCustomerDataResult(customerDataRequestId: string): Record<string, unknown> {
  return { customerDataRequestId };
}

export function customerDataProgressResult(p: {
  status: CustomerDataStatus;
  percentComplete: number;
  fileIds: string[];
}): Record<string, unknown> {
  return {
    status: p.status,
    percentComplete: p.percentComplete,
    fileIds: [...p.fileIds],
    ...(p.status === CUSTOMER_DATA_STATUS.failed ? { failureReason: CUSTOMER_DATA_FAILURE_REASON } : {}),
  };
}

/** Whole percent, capped at 99 while running so "100" always means done. */
export function percentComplete(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0) return 99;
  return Math.min(99, Math.max(0, Math.floor((100 * elapsedMs) / durationMs)));
}

/**
 * The bytes of each file of a completed job: the subject's responses dealt round-robin over
 * `fileIds.length` files, each a self-describing JSON document. Deterministic for a given input.
 */
export function customerDataFileDocuments(args: {
  customerDataRequestId: string;
  email: string;
  fileIds: string[];
  completedAt: number;
  responses: SeedSurveyResponse[];
}): Buffer[] {
  const parts = args.fileIds.length;
  return args.fileIds.map((fileId, i) => {
    const doc = {
      format: 'qualtrics-simulator/customer-data@1',
      customerDataRequestId: args.customerDataRequestId,
      fileId,
      part: i + 1,
      parts,
      generatedAt: new Date(args.completedAt).toISOString(),
      subject: { email: args.email.toLowerCase() },
      responses: args.responses
        .filter((_r, j) => j % parts === i)
        .map((r) => ({
          responseId: r.responseId,
          surveyId: r.surveyId,
          surveyName: r.surveyName,
          recordedDate: r.recordedDate,
          values: { ...r.values },
        })),
    };
    return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
  });
}
