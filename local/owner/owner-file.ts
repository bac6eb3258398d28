import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<data-dir>/owner.json`: which process owns the data dir and where its local API listens, so
 * a later command on the same data dir hands its work to it (README "Several processes, one data
 * dir"). Written once the API listens (0600: it names a loopback port with no authentication),
 * removed when the owner stops; one left by a process that died is ignored.
 */

export const OWNER_FILE = 'owner.json';

/** The code of a 503 the owner answers, while it stops, to whatever would start a workflow. */
export const OWNER_STOPPING = 'OWNER_STOPPING';

export interface OwnerInfo {
  pid: number;
  /** `http://127.0.0.1:<port>`: the owner's local API. */
  apiUrl: string;
  startedAt: string;
}

const LOOPBACK_URL = /^http:\/\/127\.0\.0\.1:\d{1,5}$/;

export function ownerFilePath(dataDir: string): string {
  return join(dataDir, OWNER_FILE);
}

/** Writes the file whole (a reader never sees half of it), readable by this user only. */
export function writeOwnerFile(dataDir: string, info: OwnerInfo): void {
  const path = ownerFilePath(dataDir);
  const partial = `${path}.${randomUUID()}.partial`;
  writeFileSync(partial, `${JSON.stringify(info)}\n`, { mode: 0o600 });
  renameSync(partial, path);
}

/**
 * The owner the file names, or undefined when there is none, the file is not ours to read (any
 * other content: a stale or foreign file is ignored, never trusted), or it names an address that
 * is not a loopback one.
 */
export function readOwnerFile(dataDir: string): OwnerInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(ownerFilePath(dataDir), 'utf8'));
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const { pid, apiUrl, startedAt } = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(pid) || (pid as number) < 1) return undefined;
  if (typeof apiUrl !== 'string' || !LOOPBACK_URL.test(apiUrl)) return undefined;
  if (typeof startedAt !== 'string') return undefined;
  return { pid: pid as number, apiUrl, startedAt };
}

/** Removes the file if it still names this process (a later owner's file is left alone). */
export function removeOwnerFile(dataDir: string, pid: number = process.pid): void {
  if (readOwnerFile(dataDir)?.pid === pid) rmSync(ownerFilePath(dataDir), { force: true });
}

/** Whether a process with this id runs (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
