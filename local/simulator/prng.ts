import { randomBytes } from 'node:crypto';

/** mulberry32: small, fast, deterministic; good enough for fault dice and seed generation. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` alphanumeric characters drawn from `random` (deterministic when `random` is). */
export function alnum(n: number, random: () => number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[Math.floor(random() * ALNUM.length)];
  return out;
}

/** Qualtrics-style id (`POOL_` + 15 alnum) from crypto randomness: ids of runtime-created objects. */
export function randomId(prefix: string, length = 15): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}
