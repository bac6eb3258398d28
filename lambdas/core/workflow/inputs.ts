import { z } from 'zod';
import { REQUEST_TYPES, requestIdSchema } from '../request-contract';

/**
 * The state each step receives: the `Parameters` of its Task state in `statemachines/*.asl.json`
 * (see notes/handler-contracts.md). Only ids, counts, cursors, S3 keys and instants: a field that
 * could hold personal data has no place here.
 */

export const RequestId = requestIdSchema;
export const RequestTypeSchema = z.enum(REQUEST_TYPES);
const Instant = z.iso.datetime({ offset: true });
const QualtricsId = z.string().min(1).max(256);
const Count = z.number().int().nonnegative();
export const JobStatusSchema = z.enum(['inProgress', 'complete', 'failed']);
/**
 * Limiter slots a throttled step reserved (rate-limiter `Reservation`: bucket key and instant, no
 * personal data). The state carries them through the Wait so the next attempt uses them.
 */
export const Reservations = z
  .array(z.object({ key: z.string().min(1).max(512), slotAt: z.number() }))
  .max(16);

export const PageCursorSchema = z.union([
  z.object({ nextPage: z.string().min(1).max(4096) }),
  z.object({ skipToken: z.string().min(1).max(4096) }),
]);

// ---- request-store steps ----

export const RecordStartedInput = z.object({ requestId: RequestId, type: RequestTypeSchema });

/** What Step Functions puts at `$.error` when a Catch fires. */
export const CaughtError = z.object({
  Error: z.string().max(256).default('States.Runtime'),
  Cause: z.unknown().optional(),
});

export const RecordFailedInput = z.object({
  requestId: RequestId,
  type: RequestTypeSchema,
  error: CaughtError,
});

// ---- customer-data job ----

const JobNotStarted = z.object({
  started: z.literal(false),
  waitUntil: Instant.optional(),
  reservations: Reservations.optional(),
});
export const StartedJob = z.object({
  started: z.literal(true),
  customerDataRequestId: QualtricsId,
  createdAt: Instant,
  polls: Count,
  status: JobStatusSchema,
  percentComplete: z.number().min(0).max(100).optional(),
  fileIds: z.array(QualtricsId),
  waitUntil: Instant.optional(),
  downloaded: z.boolean().optional(),
  nextFileIndex: Count.optional(),
  reservations: Reservations.optional(),
});
export const CustomerDataJob = z.discriminatedUnion('started', [JobNotStarted, StartedJob]);

export const StartCustomerDataJobInput = z.object({ requestId: RequestId, job: CustomerDataJob });
export const CustomerDataJobStepInput = z.object({ requestId: RequestId, job: StartedJob });

// ---- directories ----

export const DirectoryRef = z.object({ directoryId: QualtricsId, name: z.string().max(1024).optional() });

export const Listing = z.union([
  z.object({ started: z.literal(false) }),
  z.object({
    done: z.boolean(),
    cursor: PageCursorSchema.optional(),
    directories: z.array(DirectoryRef),
    waitUntil: Instant.optional(),
    reservations: Reservations.optional(),
  }),
]);
export const ListDirectoriesInput = z.object({ requestId: RequestId, listing: Listing });

export const SearchPurpose = z.enum(['access', 'verify']);
export const SearchState = z.union([
  z.object({ started: z.literal(false) }),
  z.object({
    next: z.enum(['wait', 'fetch', 'done']),
    contactIds: z.array(QualtricsId),
    contactsFound: Count,
    cursor: PageCursorSchema.optional(),
    nextIndex: Count.optional(),
    waitUntil: Instant.optional(),
    key: z.string().optional(),
    reservations: Reservations.optional(),
  }),
]);
export const SearchDirectoryInput = z.object({
  requestId: RequestId,
  directoryId: QualtricsId,
  purpose: SearchPurpose,
  search: SearchState,
});

export const GetContactsInput = z.object({
  requestId: RequestId,
  directoryId: QualtricsId,
  search: z.object({
    contactIds: z.array(QualtricsId),
    contactsFound: Count,
    nextIndex: Count.optional(),
    reservations: Reservations.optional(),
  }),
});

// ---- erasure ----

const ErasureNotStarted = z.object({
  started: z.literal(false),
  waitUntil: Instant.optional(),
  reservations: Reservations.optional(),
});
export const StartedErasure = z.object({
  started: z.literal(true),
  erasureRequestId: QualtricsId,
  dryRun: z.boolean(),
  status: z.enum(['inProgress', 'submitted', 'complete', 'failed']),
  qualtricsStatus: z.string().max(64).optional(),
  createdAt: Instant,
  polls: Count,
  /** When the erasure list last showed the erasure (a 404 by id is trusted only so long). */
  listedAt: Instant.optional(),
  waitUntil: Instant.optional(),
  reservations: Reservations.optional(),
});
export const Erasure = z.discriminatedUnion('started', [ErasureNotStarted, StartedErasure]);
export const CreateErasureInput = z.object({ requestId: RequestId, erasure: Erasure });
export const GetErasureInput = z.object({ requestId: RequestId, erasure: StartedErasure });

// ---- bundle and evidence ----

export const SearchedDirectories = z.object({
  listed: z.array(DirectoryRef),
  searched: z.array(z.object({ directoryId: QualtricsId, contactsFound: Count })),
});

export const WriteManifestInput = z.object({
  requestId: RequestId,
  collected: z.object({
    customerData: z.object({
      customerDataRequestId: QualtricsId,
      fileIds: z.array(QualtricsId),
      polls: Count.optional(),
    }),
    directories: SearchedDirectories,
  }),
});

export const WriteEvidenceInput = z.object({
  requestId: RequestId,
  erasure: StartedErasure,
  verification: z.union([
    z.object({ skipped: z.literal(true) }),
    z.object({ directories: SearchedDirectories }),
  ]),
});

export const RecordCompletedInput = z.object({
  requestId: RequestId,
  type: RequestTypeSchema,
  // Each workflow's last step result (writeManifest / writeEvidence); checked where it is used.
  result: z.record(z.string(), z.unknown()),
});

export type ReservationsValue = z.infer<typeof Reservations>;
export type RecordStartedEvent = z.infer<typeof RecordStartedInput>;
export type RecordFailedEvent = z.infer<typeof RecordFailedInput>;
export type RecordCompletedEvent = z.infer<typeof RecordCompletedInput>;
export type CustomerDataJobState = z.infer<typeof CustomerDataJob>;
export type StartedJobState = z.infer<typeof StartedJob>;
export type StartCustomerDataJobEvent = z.infer<typeof StartCustomerDataJobInput>;
export type CustomerDataJobStepEvent = z.infer<typeof CustomerDataJobStepInput>;
export type DirectoryRefState = z.infer<typeof DirectoryRef>;
export type ListingState = z.infer<typeof Listing>;
export type ListDirectoriesEvent = z.infer<typeof ListDirectoriesInput>;
export type SearchStateValue = z.infer<typeof SearchState>;
export type SearchDirectoryEvent = z.infer<typeof SearchDirectoryInput>;
export type GetContactsEvent = z.infer<typeof GetContactsInput>;
export type ErasureState = z.infer<typeof Erasure>;
export type StartedErasureState = z.infer<typeof StartedErasure>;
export type CreateErasureEvent = z.infer<typeof CreateErasureInput>;
export type GetErasureEvent = z.infer<typeof GetErasureInput>;
export type SearchedDirectoriesState = z.infer<typeof SearchedDirectories>;
export type WriteManifestEvent = z.infer<typeof WriteManifestInput>;
export type WriteEvidenceEvent = z.infer<typeof WriteEvidenceInput>;

// ---- what the last step of each workflow hands to recordCompleted ----

export const AccessResult = z.object({
  counts: z.object({ directoriesSearched: Count, contactsFound: Count, files: Count }),
  manifestKey: z.string().min(1),
  qualtrics: z.object({ customerDataRequestId: QualtricsId, fileIds: z.array(QualtricsId) }),
});

export const DeletionResult = z.object({
  dryRun: z.boolean(),
  subjectFound: z.boolean().nullable(),
  qualtrics: z.object({ erasureRequestId: QualtricsId, status: z.string().max(64) }),
  verification: z.union([z.object({ skipped: z.literal(true) }), z.object({ contactsRemaining: Count })]),
});

export type AccessResultValue = z.infer<typeof AccessResult>;
export type DeletionResultValue = z.infer<typeof DeletionResult>;

// ---- execution ended (EventBridge "Step Functions Execution Status Change") ----

/** Only the fields we read; the event's `input`/`output` are ignored (they carry ids only anyway). */
export const ExecutionEndedInput = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    name: z.string().min(1).max(80),
    status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
    error: z.string().max(256).nullish(),
  }),
});
export type ExecutionEndedEvent = z.infer<typeof ExecutionEndedInput>;
