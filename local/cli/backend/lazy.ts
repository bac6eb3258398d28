import type { withBackend as withBackendNow } from './session';

/**
 * `withBackend` (./session), loaded when a command first calls it. The command modules import it
 * from here, so parsing and checking a command's input (and `--help`) load neither the backends nor
 * what they run: the local AWS services, the workflow engine, the AWS SDK.
 */
export async function withBackend(
  ...args: Parameters<typeof withBackendNow>
): ReturnType<typeof withBackendNow> {
  const session = await import('./session.js');
  return session.withBackend(...args);
}
