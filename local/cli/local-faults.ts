import { ConfigError } from '../../lambdas/core/errors';

/**
 * Faults of the machine the CLI runs on, as configuration errors (exit 3) whose message names the
 * fix: an unusable data dir or output dir, a port in use, a data dir another process holds.
 * Anything else is returned unchanged.
 */

/** File-system error codes that mean "this directory cannot be used", with what to do about each. */
const FS_FIXES: Record<string, string> = {
  ENOTDIR: 'it (or a parent) is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
  EACCES: 'no permission to write there',
  EPERM: 'no permission to write there',
  EROFS: 'it is on a read-only file system',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
};

function fsCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && e.code in FS_FIXES) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** An error from preparing or using `dir` (given as `option`, e.g. --data-dir) → exit 3 naming the fix. */
export function unusableDirError(err: unknown, dir: string, option: '--data-dir' | '--out'): unknown {
  const code = fsCode(err);
  if (!code) return err;
  return new ConfigError(
    option,
    `the directory ${dir} cannot be used (${code}: ${FS_FIXES[code]}): fix that, or choose another with ${option}`,
  );
}

/** A listen on a port that is taken → exit 3 naming --port. */
export function portInUseError(err: unknown, port: number): unknown {
  if ((err as { code?: string })?.code !== 'EADDRINUSE') return err;
  return new ConfigError(
    '--port',
    `port ${port} on 127.0.0.1 is in use: stop what uses it, or choose another with --port`,
  );
}
