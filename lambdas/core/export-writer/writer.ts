import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { InputError } from '../errors';
import { directoryFileKey, evidenceKey, exportPrefix, manifestKey } from '../tables';
import { HashingCounter, hashStream, mapLimit, sha256Hex } from './hashing';
import {
  MANIFEST_SCHEMA_VERSION,
  type Manifest,
  type ManifestDirectory,
  type ManifestFile,
  type ManifestInput,
} from './manifest';

export interface ExportWriterOptions {
  s3: S3Client;
  bucket: string;
  /** SSE-KMS with this key; without it, SSE-S3 (AES256). */
  kmsKeyId?: string;
  /** ListObjectsV2 page size (S3's maximum by default; small in tests to exercise paging). */
  listPageSize?: number;
}

/** What was stored: the same fields the manifest lists. */
export interface StoredObject {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

export type BundleProblemKind =
  | 'manifest-missing'
  | 'manifest-invalid'
  | 'missing'
  | 'bytes-mismatch'
  | 'sha256-mismatch'
  | 'unlisted';

export interface BundleProblem {
  key: string;
  kind: BundleProblemKind;
  message: string;
}

/** Object metadata names (`x-amz-meta-*`) carrying what the manifest needs without a re-read. */
export const META_SHA256 = 'sha256';
export const META_BYTES = 'bytes';

const MAX_PRESIGN_SECONDS = 900;
/** Modes of what `copyBundleTo` creates. */
const OWNER_ONLY = { file: 0o600, dir: 0o700 } as const;
/** CopyObject (used to stamp the metadata after a streamed upload) works up to 5 GiB. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
const PART_SIZE = 5 * 1024 * 1024;
const SHA256 = /^[0-9a-f]{64}$/;
const CONCURRENCY = 8;

/**
 * Writes the export bundle and evidence to S3 (README "The export bundle"): every object encrypted, streamed
 * in and out (a large file never sits whole in memory), each carrying its size and SHA-256.
 */
export class ExportWriter {
  readonly bucket: string;
  private readonly s3: S3Client;
  private readonly kmsKeyId?: string;
  private readonly listPageSize?: number;

  constructor(opts: ExportWriterOptions) {
    this.s3 = opts.s3;
    this.bucket = opts.bucket;
    this.kmsKeyId = opts.kmsKeyId || undefined;
    this.listPageSize = opts.listPageSize;
  }

  /**
   * Streams `body` to `key` (multipart above 5 MiB), hashing and counting on the way, then stamps
   * the size and hash on the object as metadata. They are known only at the end, and metadata is
   * fixed when an upload starts, so the stamp is a server-side copy onto itself.
   */
  async putStream(key: string, body: Readable, contentType: string): Promise<StoredObject> {
    assertKey(key);
    const meter = new HashingCounter();
    let sourceError: Error | undefined;
    // pipeline() forwards a failing source to the meter, which fails the upload (parts are aborted).
    pipeline(body, meter, (err) => {
      if (err) sourceError = err;
    });
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: meter, ContentType: contentType, ...this.sse() },
      partSize: PART_SIZE,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      throw sourceError ?? e;
    }
    if (sourceError) throw sourceError;
    const stored: StoredObject = { key, bytes: meter.bytes, sha256: meter.sha256, contentType };
    if (stored.bytes <= MAX_COPY_BYTES) {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${encodeKey(key)}`,
          MetadataDirective: 'REPLACE',
          Metadata: metadataOf(stored),
          ContentType: contentType,
          ...this.sse(),
        }),
      );
    }
    return stored;
  }

  /** Writes `value` as pretty-printed JSON in one request, metadata included. */
  putJson(key: string, value: unknown): Promise<StoredObject> {
    return this.putBytes(key, Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8'), 'application/json');
  }

  /** Writes a small object in one request, metadata included. */
  async putBytes(key: string, body: Buffer, contentType: string): Promise<StoredObject> {
    assertKey(key);
    const stored: StoredObject = { key, bytes: body.length, sha256: sha256Hex(body), contentType };
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: contentType,
        Metadata: metadataOf(stored),
        ...this.sse(),
      }),
    );
    return stored;
  }

  async readJson<T = unknown>(key: string): Promise<T | undefined> {
    const bytes = await this.readBytes(key);
    return bytes && (JSON.parse(bytes.toString('utf8')) as T);
  }

  /** An object's bytes, whole (for objects known to be small); undefined when there is none. */
  async readBytes(key: string): Promise<Buffer | undefined> {
    const body = await this.getBody(key);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  /** Every object of the bundle under `exports/<requestId>/` (the manifest too, if written), with its size. */
  listBundle(requestId: string): Promise<Array<{ key: string; size: number }>> {
    return this.list(exportPrefix(requestId));
  }

  /**
   * Lists the bundle under `exports/<requestId>/` and writes its `manifest.json`: every file with
   * its size and hash, every directory searched (also those with no match, which have no file).
   */
  async writeManifest(input: ManifestInput): Promise<{ key: string; manifest: Manifest }> {
    const prefix = exportPrefix(input.requestId);
    const mKey = manifestKey(input.requestId);
    const objects = (await this.list(prefix)).filter((o) => o.key !== mKey);
    const files = await mapLimit(objects, CONCURRENCY, (o) => this.describe(o.key, o.size));
    files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const present = new Set(files.map((f) => f.key));

    const directories: ManifestDirectory[] = input.directoriesSearched.map((d) => {
      if (!Number.isSafeInteger(d.contactsFound) || d.contactsFound < 0) {
        throw new InputError('contactsFound must be a non-negative integer');
      }
      // Property order is the order readers see in the JSON.
      const entry: ManifestDirectory = {
        directoryId: d.directoryId,
        ...(d.name !== undefined ? { name: d.name } : {}),
        contactsFound: d.contactsFound,
      };
      const fileKey = directoryFileKey(input.requestId, d.directoryId);
      if (present.has(fileKey)) entry.key = fileKey;
      return entry;
    });

    // A file id listed twice by Qualtrics is still one file.
    const qualtrics: Manifest['qualtrics'] = {
      ...(input.qualtrics.target ? { target: input.qualtrics.target } : {}),
      fileIds: [...new Set(input.qualtrics.fileIds ?? [])],
    };
    if (input.qualtrics.customerDataRequestId) {
      qualtrics.customerDataRequestId = input.qualtrics.customerDataRequestId;
    }
    const manifest: Manifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      requestId: input.requestId,
      type: input.type,
      subject: { emailSha256: input.emailSha256 },
      createdAt: input.createdAt,
      completedAt: input.completedAt,
      qualtrics,
      directoriesSearched: directories,
      counts: {
        directoriesSearched: directories.length,
        contactsFound: directories.reduce((n, d) => n + d.contactsFound, 0),
        files: files.length,
      },
      files,
    };
    await this.putJson(mKey, manifest);
    return { key: mKey, manifest };
  }

  /** Re-reads every file the manifest lists (streamed) and compares size and hash. */
  async verifyBundle(requestId: string): Promise<{ ok: boolean; problems: BundleProblem[] }> {
    const prefix = exportPrefix(requestId);
    const mKey = manifestKey(requestId);
    const problems: BundleProblem[] = [];
    let manifest: Manifest | undefined;
    try {
      manifest = await this.readJson<Manifest>(mKey);
    } catch {
      problems.push({ key: mKey, kind: 'manifest-invalid', message: 'manifest is not valid JSON' });
      return { ok: false, problems };
    }
    if (!manifest) {
      problems.push({ key: mKey, kind: 'manifest-missing', message: 'no manifest' });
      return { ok: false, problems };
    }
    if (manifest.requestId !== requestId || !Array.isArray(manifest.files)) {
      problems.push({ key: mKey, kind: 'manifest-invalid', message: 'manifest is not this request’s' });
      return { ok: false, problems };
    }
    if (manifest.counts?.files !== manifest.files.length) {
      problems.push({
        key: mKey,
        kind: 'manifest-invalid',
        message: 'counts.files differs from the files listed',
      });
    }

    const listed = new Set<string>();
    await mapLimit(manifest.files, CONCURRENCY, async (file) => {
      listed.add(file.key);
      if (typeof file.key !== 'string' || !file.key.startsWith(prefix) || file.key === mKey) {
        problems.push({
          key: String(file.key),
          kind: 'manifest-invalid',
          message: 'file outside the bundle',
        });
        return;
      }
      const body = await this.getBody(file.key);
      if (!body) {
        problems.push({ key: file.key, kind: 'missing', message: 'listed in the manifest but not stored' });
        return;
      }
      const actual = await hashStream(body);
      if (actual.bytes !== file.bytes) {
        problems.push({
          key: file.key,
          kind: 'bytes-mismatch',
          message: `manifest says ${file.bytes} bytes, object has ${actual.bytes}`,
        });
      }
      if (actual.sha256 !== file.sha256) {
        problems.push({
          key: file.key,
          kind: 'sha256-mismatch',
          message: 'sha256 differs from the manifest',
        });
      }
    });
    for (const o of await this.list(prefix)) {
      if (o.key !== mKey && !listed.has(o.key)) {
        problems.push({ key: o.key, kind: 'unlisted', message: 'stored but not listed in the manifest' });
      }
    }
    problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { ok: problems.length === 0, problems };
  }

  /** Deletion evidence: `evidence/<requestId>.json`. */
  writeEvidence(requestId: string, evidence: unknown): Promise<StoredObject> {
    return this.putJson(evidenceKey(requestId), evidence);
  }

  /** A presigned GET URL, valid at most 15 minutes (README "HTTP API"). */
  presign(key: string, expiresInSeconds = MAX_PRESIGN_SECONDS): Promise<string> {
    assertKey(key);
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > MAX_PRESIGN_SECONDS
    ) {
      throw new InputError(`expiresInSeconds must be an integer between 1 and ${MAX_PRESIGN_SECONDS}`);
    }
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }

  /**
   * Copies the bundle to `<localDir>/<requestId>/` with the same relative names (streamed; each
   * file appears under its name only once complete), its owner's only: files 0600, folders 0700
   * (personal data). Returns that directory.
   */
  async copyBundleTo(requestId: string, localDir: string): Promise<string> {
    const prefix = exportPrefix(requestId);
    const target = resolve(localDir, requestId);
    await mkdir(target, { recursive: true, mode: OWNER_ONLY.dir });
    const objects = await this.list(prefix);
    await mapLimit(objects, 4, async (o) => {
      const relative = o.key.slice(prefix.length);
      const dest = resolve(target, relative);
      // Keys come from S3; never let one escape the target directory.
      if (!relative || isAbsolute(relative) || !dest.startsWith(target + sep)) {
        throw new InputError('bundle key does not map to a file inside the output directory');
      }
      const body = await this.getBody(o.key);
      if (!body) return; // deleted since the listing
      await mkdir(dirname(dest), { recursive: true, mode: OWNER_ONLY.dir });
      const partial = `${dest}.partial`;
      try {
        await pipelineAsync(body, createWriteStream(partial, { mode: OWNER_ONLY.file }));
        await rename(partial, dest);
      } catch (e) {
        await rm(partial, { force: true });
        throw e;
      }
    });
    return target;
  }

  // --- internals ---

  private sse(): { ServerSideEncryption: ServerSideEncryption; SSEKMSKeyId?: string } {
    return this.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId }
      : { ServerSideEncryption: 'AES256' };
  }

  private async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const out: Array<{ key: string; size: number }> = [];
    const pages = paginateListObjectsV2(
      { client: this.s3, ...(this.listPageSize ? { pageSize: this.listPageSize } : {}) },
      { Bucket: this.bucket, Prefix: prefix },
    );
    for await (const page of pages) {
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
      }
    }
    return out;
  }

  /** Size, hash and type from the object's metadata; hashes the object when they are missing. */
  private async describe(key: string, listedSize: number): Promise<ManifestFile> {
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    const contentType = head.ContentType || 'application/octet-stream';
    const size = head.ContentLength ?? listedSize;
    const sha256 = head.Metadata?.[META_SHA256];
    const bytes = Number(head.Metadata?.[META_BYTES]);
    if (sha256 && SHA256.test(sha256) && bytes === size) return { key, bytes, sha256, contentType };
    const body = await this.getBody(key);
    if (!body) throw new Error(`object ${key} vanished while the manifest was written`);
    const actual = await hashStream(body);
    return { key, bytes: actual.bytes, sha256: actual.sha256, contentType };
  }

  private async getBody(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body as Readable;
    } catch (e) {
      if (isNoSuchKey(e)) return undefined;
      // S3 answers a missing key with 403, not 404, to a caller whose s3:ListBucket does not cover
      // that request (ours is limited to the exports/ prefix, which a GetObject does not carry):
      // an expired bundle looks like a denial. A listing of exactly that key tells them apart.
      if (isAccessDenied(e) && !(await this.isListed(key).catch(() => true))) return undefined;
      throw e;
    }
  }

  /** Whether `key` exists, by a listing of that exact prefix (allowed where GetObject's 404 is not). */
  private async isListed(key: string): Promise<boolean> {
    const out = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }),
    );
    return (out.Contents ?? []).some((o) => o.Key === key);
  }
}

function isAccessDenied(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return (
    name === 'AccessDenied' ||
    (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403
  );
}

function metadataOf(o: StoredObject): Record<string, string> {
  return { [META_SHA256]: o.sha256, [META_BYTES]: String(o.bytes) };
}

function isNoSuchKey(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return (
    name === 'NoSuchKey' ||
    name === 'NotFound' ||
    (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404
  );
}

/** CopySource is `bucket/key`, URL-encoded per segment. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function assertKey(key: string): void {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.split('/').some((s) => s === '..' || s === '.') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
    /[\u0000-\u001f\u007f]/.test(key)
  ) {
    throw new InputError('invalid object key');
  }
}
