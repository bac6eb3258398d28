import type { HandlerName } from '../catalog';
import { handler as createErasure } from './create-erasure';
import { handler as downloadCustomerDataFiles } from './download-customer-data-files';
import { handler as getContacts } from './get-contacts';
import { handler as getCustomerDataJob } from './get-customer-data-job';
import { handler as getErasure } from './get-erasure';
import { handler as listDirectories } from './list-directories';
import { handler as recordCompleted } from './record-completed';
import { handler as recordFailed } from './record-failed';
import { handler as recordStarted } from './record-started';
import { handler as searchDirectory } from './search-directory';
import { handler as startCustomerDataJob } from './start-customer-data-job';
import { handler as writeEvidence } from './write-evidence';
import { handler as writeManifest } from './write-manifest';

/**
 * The workflow step handlers by catalog name: the local engine maps each ASL Task state to one of
 * them (through the catalog's substitution keys), as AWS maps it to the function of the same name.
 * The API, intake and connection-check handlers are entry points, not steps, and are not listed.
 */
export type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

export const STEP_HANDLERS: Partial<Record<HandlerName, Handler>> = {
  listDirectories,
  searchDirectory,
  getContacts,
  startCustomerDataJob,
  getCustomerDataJob,
  downloadCustomerDataFiles,
  createErasure,
  getErasure,
  recordStarted,
  recordCompleted,
  recordFailed,
  writeManifest,
  writeEvidence,
} as Partial<Record<HandlerName, Handler>>;
