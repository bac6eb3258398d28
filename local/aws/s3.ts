import crypto from 'node:crypto';
import type { Server } from 'node:http';
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
