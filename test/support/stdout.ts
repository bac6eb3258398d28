import { vi } from 'vitest';

/**
 * Runs `fn` with stdout captured (nothing reaches the terminal), returning its value and what it
 * wrote. Powertools writes its EMF and log lines to stdout through its own Console, which calls
 * `process.stdout.write`.
 */
export async function capturingStdout<T>(fn: () => T | Promise<T>): Promise<{ value: T; out: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write);
  try {
    return { value: await fn(), out: out.join('') };
  } finally {
    spy.mockRestore();
  }
}
