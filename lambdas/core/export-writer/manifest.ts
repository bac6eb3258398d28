import type { RequestType } from '../request-store/types';

/**
 * `exports/<requestId>/manifest.json` (README "The export bundle"). The JSON Schema in
 * `schemas/manifest.schema.json` describes the same document; a change here is a change there (and a new
 * schemaVersion).
 */

/** 1.1: `qualtrics.target`, and `report.html` among the files. */
export const MANIFEST_SCHEMA_VERSION = '1.1';

export interface ManifestFile {
  /** Full S3 key, `exports/<requestId>/…`. */
  key: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the object's bytes. */
  sha256: string;
  contentType: string;
}

export interface ManifestDirectory {
  directoryId: string;
  name?: string;
  contactsFound: number;
  /** The file with the contacts found there; absent when the subject was not found in it. */
  key?: string;
}

export interface Manifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  requestId: string;
  type: RequestType;
  subject: { emailSha256: string };
  createdAt: string;
  completedAt: string;
  /** `target`: which Qualtrics the bundle came from, "simulator" or the origin. */
  qualtrics: { target?: string; customerDataRequestId?: string; fileIds: string[] };
  /** Every directory searched, also those without a match. */
  directoriesSearched: ManifestDirectory[];
  counts: { directoriesSearched: number; contactsFound: number; files: number };
  /** Every file of the bundle except the manifest itself, sorted by key. */
  files: ManifestFile[];
}

export interface ManifestInput {
  requestId: string;
  type: RequestType;
  emailSha256: string;
  createdAt: string;
  completedAt: string;
  qualtrics: { target?: string; customerDataRequestId?: string; fileIds?: string[] };
  directoriesSearched: Array<{ directoryId: string; name?: string; contactsFound: number }>;
}
