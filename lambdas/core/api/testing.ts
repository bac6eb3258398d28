import { ApiError } from './errors';

/** Test support (imported by `*.test.ts` only): the ApiError `fn` throws; anything else, or nothing, fails. */
export function rejection(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
