import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportLinks } from '../../lambdas/core/api';
import { exportPrefix, manifestKey } from '../../lambdas/core/tables';
import { CliError, ExitCode } from './exit-codes';
import { unusableDirError } from './local-faults';

/**
 * Copies a COMPLETED access request's bundle to `<out>/<requestId>/` from the presigned links of
 * `GET /requests/{id}/export` — the same way whoever runs the request (this process, the data
 * dir's owner, a deployment). Each file is checked against the manifest's size and SHA-256 while
 * it streams, and appears under its name only when whole.
 */
export async function copyBundleFromLinks(
  requestId: string,
  links: ExportLinks,
  out: string,
): Promise<string> {
  const prefix = exportPrefix(requestId);
  const target = resolve(out, requestId);
  const destOf = (key: string) => {
    const relative = key.slice(prefix.length);
    const dest = resolve(target, relative);
    // Keys come from the manifest; never let one escape the target directory.
    if (!key.startsWith(prefix) || !relative || isAbsolute(relative) || !dest.startsWith(target + sep)) {
      throw new CliError(
        ExitCode.RequestFailed,
        `the bundle of request ${requestId} names a file outside it`,
      );
    }
    return dest;
  };
  try {
    await mkdir(target, { recursive: true });
    const manifestText = await download(links.manifestUrl, destOf(manifestKey(requestId)));
    const listed = new Map<string, { bytes?: number; sha256?: string }>();
    try {
      const manifest = JSON.parse(manifestText.toString('utf8')) as { files?: unknown };
      for (const f of Array.isArray(manifest.files) ? manifest.files : []) {
        if (f && typeof f.key === 'string') listed.set(f.key, { bytes: f.bytes, sha256: f.sha256 });
      }
    } catch {
      throw new CliError(ExitCode.RequestFailed, `the manifest of request ${requestId} is not JSON`);
    }
    for (const file of links.files) {
      await download(file.url, destOf(file.key), listed.get(file.key));
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    const mapped = unusableDirError(err, target, '--out');
    if (mapped !== err) throw mapped;
    throw new CliError(
      ExitCode.ConfigOrConnection,
      `the bundle of request ${requestId} could not be copied (${reasonOf(err)})`,
    );
  }
  return target;
}

/** Streams `url` into `dest` (via `dest.partial`); the bytes too when `expect` is undefined (the manifest). */
async function download(
  url: string,
  dest: string,
  expect?: { bytes?: number; sha256?: string },
): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new BundleCopyError(`a link answered HTTP ${res.status}`);
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!expect) kept.push(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      check,
      createWriteStream(partial),
    );
    const sha256 = hash.digest('hex');
    if (
      expect &&
      ((expect.sha256 && expect.sha256 !== sha256) || (expect.bytes !== undefined && expect.bytes !== bytes))
    ) {
      throw new BundleCopyError('a file does not match its size or SHA-256 in the manifest');
    }
    await rename(partial, dest);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
  return Buffer.concat(kept);
}

class BundleCopyError extends Error {}

/** Why a copy failed, in words of ours or a system error code (never a link: it is a credential). */
function reasonOf(err: unknown): string {
  if (err instanceof BundleCopyError) return err.message;
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return 'the download failed';
}
