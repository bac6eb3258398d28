import { createHash } from 'node:crypto';

/** `jane.doe@example.com` → `j***@example.com`: what logs, state and events may carry. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** Emails are compared case-insensitively; the normalized form is what we hash and send. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailSha256(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('hex');
}

// One address, ≤ 254 chars, no whitespace/control characters (README "Request rules"). Deliberately simple:
// we must not reject real addresses Qualtrics accepts, only obvious garbage and injection attempts.
const EMAIL = /^[^\s@"<>()\\,;:[\]]+@[^\s@"<>()\\,;:[\]]+\.[^\s@"<>()\\,;:[\]]+$/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
// Invisible format characters (bidi overrides, zero-width joiners, BOM) make two addresses look
// alike; lone surrogates are not encodable as UTF-8 at all. No real address has either.
const FORMAT_CHARACTER = /\p{Cf}/u;
const LONE_SURROGATE = /\p{Cs}/u;

export const EMAIL_MAX_LENGTH = 254;
/**
 * The part of the email rule JSON Schema can say portably (API Gateway's request model): one `@`,
 * a dot in the domain, no whitespace. Every address `emailProblem` accepts matches it; the rest is
 * checked in code.
 */
export const EMAIL_OUTLINE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Returns a reason the input is not a usable email, or undefined when it is. Never echoes it. The
 * one rule for every way in (HTTP API, EventBridge, CLI, request store).
 */
export function emailProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'email must be a string';
  if (input.length === 0) return 'email is empty';
  if (input.length > EMAIL_MAX_LENGTH) return `email is longer than ${EMAIL_MAX_LENGTH} characters`;
  if (CONTROL.test(input)) return 'email contains control characters';
  if (LONE_SURROGATE.test(input)) return 'email is not valid Unicode';
  if (FORMAT_CHARACTER.test(input)) return 'email contains invisible formatting characters';
  if (/\s/u.test(input)) return 'email contains whitespace';
  if (!EMAIL.test(input)) return 'email is not a single address of the form local@domain.tld';
  return undefined;
}
