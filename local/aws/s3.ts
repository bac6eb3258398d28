import crypto from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import { closeHttpServer } from './servers';

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver in-process on an OS-chosen loopback port, storing objects as files under `directory`.
 * Buckets are created when missing (an existing bucket keeps its objects).
 *
 * s3rver runs in the caller's event loop: never call it from a synchronous child process.
 */
export async function startS3rver(opts: { directory: string; buckets: readonly string[] }): Promise<LocalS3> {
  enableDesForS3rverListings();
  reportS3rverWriteErrors();
  const s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: opts.directory,
    configureBuckets: opts.buckets.map((name) => ({ name })),
  });
  const { port } = await s3rver.run();
  // run() keeps the server it created here; close it ourselves so idle sockets cannot hold it open.
  const server = (s3rver as unknown as { httpServer: Server }).httpServer;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => closeHttpServer(server) };
}

let desPatched = false;

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+)
 * no longer provides: every truncated listing (more keys than MaxKeys, i.e. > 1000) answers 500.
 * Triple DES with the key repeated three times is, by construction, the same cipher as single
 * DES, so route exactly those calls there (tokens stay byte-identical). Every other algorithm,
 * and any DES call that is not s3rver's 8-byte-key form, is passed through untouched.
 */
function enableDesForS3rverListings(): void {
  if (desPatched) return;
  desPatched = true;
  type Factory = (
    algorithm: string,
    key: crypto.CipherKey,
    iv: crypto.BinaryLike | null,
    options?: unknown,
  ) => unknown;
  const mutable = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', Factory>;
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = mutable[name].bind(crypto) as Factory;
    mutable[name] = (algorithm, key, iv, options) => {
      if (
        typeof algorithm === 'string' &&
        algorithm.toLowerCase() === 'des' &&
        Buffer.isBuffer(key) &&
        key.length === 8
      ) {
        return original('des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
      }
      return original(algorithm, key, iv, options);
    };
  }
}

let writesPatched = false;

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}

interface StoredObject {
  bucket: string;
  key: string;
  metadata: unknown;
  content: Buffer | NodeJS.ReadableStream;
}

/**
 * s3rver writes an object (or a multipart part) to its file without listening for the file's
 * errors: a full disk (ENOSPC) or any other write error is thrown from an event no one handles,
 * which ends the whole process, and a small object is even answered 200 before it is written.
 * Its two writing methods are replaced by ones that answer only once the file is written, and fail
 * the PUT when it is not: a 500, which the SDK retries and the workflow reports, named
 * `InsufficientStorage` for a full disk. Files, names and metadata are s3rver's own.
 */
function reportS3rverWriteErrors(): void {
  if (writesPatched) return;
  writesPatched = true;
  const Store = require('s3rver/lib/stores/filesystem') as { prototype: Record<string, unknown> };
  const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;

  /** Streams `content` into `path`, resolving once the file is written; its size and MD5. */
  async function writeContent(path: string, content: Buffer | NodeJS.ReadableStream) {
    await mkdir(dirname(path), { recursive: true });
    const md5 = crypto.createHash('md5');
    let size = 0;
    const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    try {
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        createWriteStream(path),
      );
    } catch (err) {
      // Said by its own code (the S3 error's name a failed step reports), not as InternalError.
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new S3Error('InsufficientStorage', `disk full (${code})`);
      throw err;
    }
    return { size, md5: md5.digest('hex') };
  }

  Store.prototype.putObject = async function putObject(this: S3rverStore, object: StoredObject) {
    const written = await writeContent(
      this.getResourcePath(object.bucket, object.key, 'object'),
      object.content,
    );
    await this.putMetadata(object.bucket, object.key, object.metadata, written.md5);
    return written;
  };

  Store.prototype.putPart = async function putPart(
    this: S3rverStore,
    bucket: string,
    uploadId: string,
    partNumber: number,
    content: NodeJS.ReadableStream,
  ) {
    const partPath = join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const written = await writeContent(partPath, content);
    await writeFile(`${partPath}.md5`, written.md5);
    return written;
  };
}
