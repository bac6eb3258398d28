import { randomUUID } from 'node:crypto';
import {
  CUSTOMER_DATA_FILE_ID_PREFIX,
  CUSTOMER_DATA_REQUEST_ID_PREFIX,
  CUSTOMER_DATA_STATUS,
  type CustomerDataStatus,
  customerDataFileDocuments,
  percentComplete,
} from './customer-data-shapes';
import {
  ERASURE_FAILURE_REASON,
  ERASURE_ID_PREFIX,
  ERASURE_PENDING_FRACTION,
  ERASURE_STATUS,
  type ErasureRecordView,
} from './erasure-shapes';
import { randomId } from './prng';
import type { SeedContact, SeedDirectory, SeedSurveyResponse, SeedUser, SimulatorSeed } from './seed';

/**
 * The simulated brand's data and its asynchronous jobs. Jobs progress lazily: nothing runs on a
 * timer; `settle(now)` applies, in time order, every completion that is due, so an erasure that
 * completed before a job really removed the subject's data from what that job exports.
 */

interface CustomerDataJob {
  id: string;
  seq: number;
  email: string;
  createdAt: number;
  /** Real ms from create to completion (simulated duration × timeScale). */
  durationMs: number;
  fails: boolean;
  fileCount: number;
  done: boolean;
  fileIds: string[];
  files: Map<string, Buffer>;
}

interface Erasure {
  id: string;
  seq: number;
  emails: string[];
  searchOnly: boolean;
  createdAt: number;
  durationMs: number;
  fails: boolean;
  done: boolean;
  emailsNotFound: string[];
}

export interface JobProgress {
  status: CustomerDataStatus;
  percentComplete: number;
  fileIds: string[];
}

const lower = (s: string) => s.toLowerCase();

export class World {
  readonly user: SeedUser;
  readonly directories: SeedDirectory[];
  private responses: SeedSurveyResponse[];
  private readonly jobs = new Map<string, CustomerDataJob>();
  private readonly erasureRequests = new Map<string, Erasure>();
  private seq = 0;

  constructor(seed: SimulatorSeed) {
    const copy = structuredClone(seed);
    this.user = copy.user;
    this.directories = copy.directories;
    this.responses = copy.responses;
  }

  directory(directoryId: string): SeedDirectory | undefined {
    return this.directories.find((d) => d.directoryId === directoryId);
  }

  contact(directoryId: string, contactId: string): SeedContact | undefined {
    return this.directory(directoryId)?.contacts.find((c) => c.contactId === contactId);
  }

  contactsWithEmail(email: string): Array<{ directoryId: string; contactId: string }> {
    const wanted = lower(email);
    return this.directories.flatMap((d) =>
      d.contacts
        .filter((c) => lower(c.email) === wanted)
        .map((c) => ({ directoryId: d.directoryId, contactId: c.contactId })),
    );
  }

  /** Applies every job and erasure completion due at `now`, oldest first. */
  settle(now: number): void {
    const due: Array<{ at: number; seq: number; apply: () => void }> = [];
    for (const j of this.jobs.values()) {
      if (!j.done && j.createdAt + j.durationMs <= now) {
        due.push({ at: j.createdAt + j.durationMs, seq: j.seq, apply: () => this.completeJob(j) });
      }
    }
    for (const e of this.erasureRequests.values()) {
      if (!e.done && e.createdAt + e.durationMs <= now) {
        due.push({ at: e.createdAt + e.durationMs, seq: e.seq, apply: () => this.completeErasure(e) });
      }
    }
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const d of due) d.apply();
  }

  // --- customer-data jobs ---

  createJob(a: {
    email: string;
    now: number;
    durationMs: number;
    fails: boolean;
    fileCount: number;
  }): string {
    const id = randomId(CUSTOMER_DATA_REQUEST_ID_PREFIX);
    this.jobs.set(id, {
      id,
      seq: this.seq++,
      email: a.email,
      createdAt: a.now,
      durationMs: a.durationMs,
      fails: a.fails,
      fileCount: a.fileCount,
      done: false,
      fileIds: [],
      files: new Map(),
    });
    return id;
  }

  jobProgress(id: string, now: number): JobProgress | undefined {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    if (!j.done) {
      return {
        status: CUSTOMER_DATA_STATUS.inProgress,
        percentComplete: percentComplete(now - j.createdAt, j.durationMs),
        fileIds: [],
      };
    }
    return {
      status: j.fails ? CUSTOMER_DATA_STATUS.failed : CUSTOMER_DATA_STATUS.complete,
      percentComplete: 100,
      fileIds: [...j.fileIds],
    };
  }

  jobFile(id: string, fileId: string): Buffer | undefined {
    return this.jobs.get(id)?.files.get(fileId);
  }

  jobViews(now: number): Array<{
    id: string;
    status: string;
    createdAt: number;
    completedAt?: number;
    fileIds: string[];
  }> {
    return [...this.jobs.values()].map((j) => {
      const p = this.jobProgress(j.id, now)!;
      return {
        id: j.id,
        status: p.status,
        createdAt: j.createdAt,
        ...(j.done ? { completedAt: j.createdAt + j.durationMs } : {}),
        fileIds: p.fileIds,
      };
    });
  }

  private completeJob(j: CustomerDataJob): void {
    j.done = true;
    if (j.fails) return;
    j.fileIds = Array.from({ length: j.fileCount }, () => randomId(CUSTOMER_DATA_FILE_ID_PREFIX));
    const wanted = lower(j.email);
    const docs = customerDataFileDocuments({
      customerDataRequestId: j.id,
      email: j.email,
      fileIds: j.fileIds,
      completedAt: j.createdAt + j.durationMs,
      responses: this.responses.filter((r) => lower(r.email) === wanted),
    });
    j.fileIds.forEach((fileId, i) => {
      j.files.set(fileId, docs[i]!);
    });
  }

  // --- erasures ---

  createErasure(a: {
    emails: string[];
    searchOnly: boolean;
    now: number;
    durationMs: number;
    fails: boolean;
  }): ErasureRecordView {
    const e: Erasure = {
      id: `${ERASURE_ID_PREFIX}${randomUUID()}`,
      seq: this.seq++,
      emails: [...a.emails],
      searchOnly: a.searchOnly,
      createdAt: a.now,
      durationMs: a.durationMs,
      fails: a.fails,
      done: false,
      emailsNotFound: [],
    };
    this.erasureRequests.set(e.id, e);
    return this.erasureView(e, a.now);
  }

  erasure(id: string, now: number): ErasureRecordView | undefined {
    const e = this.erasureRequests.get(id);
    return e ? this.erasureView(e, now) : undefined;
  }

  /** All erasures, oldest first. */
  erasureList(now: number): ErasureRecordView[] {
    return [...this.erasureRequests.values()].map((e) => this.erasureView(e, now));
  }

  private erasureView(e: Erasure, now: number): ErasureRecordView {
    const pendingUntil = e.createdAt + Math.floor(e.durationMs * ERASURE_PENDING_FRACTION);
    const base = {
      id: e.id,
      user: this.user.userId,
      emailList: [...e.emails],
      searchOnly: e.searchOnly,
      created: e.createdAt,
    };
    if (e.done) {
      return {
        ...base,
        status: e.fails ? ERASURE_STATUS.failed : ERASURE_STATUS.completed,
        emailsNotFound: [...e.emailsNotFound],
        failureReason: e.fails ? ERASURE_FAILURE_REASON : null,
        updated: e.createdAt + e.durationMs,
      };
    }
    const pending = now < pendingUntil;
    return {
      ...base,
      status: pending ? ERASURE_STATUS.pending : ERASURE_STATUS.inProgress,
      emailsNotFound: [],
      failureReason: null,
      updated: pending ? e.createdAt : pendingUntil,
    };
  }

  erasureCompletedAt(id: string): number | undefined {
    const e = this.erasureRequests.get(id);
    return e?.done ? e.createdAt + e.durationMs : undefined;
  }

  private completeErasure(e: Erasure): void {
    e.done = true;
    if (e.fails) return;
    const wanted = new Set(e.emails.map(lower));
    const found = new Set<string>();
    for (const d of this.directories) {
      for (const c of d.contacts) if (wanted.has(lower(c.email))) found.add(lower(c.email));
    }
    for (const r of this.responses) if (wanted.has(lower(r.email))) found.add(lower(r.email));
    e.emailsNotFound = e.emails.filter((m) => !found.has(lower(m)));
    if (e.searchOnly) return;
    for (const d of this.directories) d.contacts = d.contacts.filter((c) => !wanted.has(lower(c.email)));
    this.responses = this.responses.filter((r) => !wanted.has(lower(r.email)));
  }
}
