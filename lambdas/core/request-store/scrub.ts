import { maskEmail } from '../privacy';

/**
 * Defensive PII scrub for text stored in the record's timeline and error (both shown to users and
 * copied into events). Callers are meant to pass PII-free text; this catches their mistakes.
 */

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Anything shaped like an address, plain or URL-encoded (`%40`).
const EMAIL_LIKE = /[^\s@"'<>(),;:[\]\\/?#&=]+(?:@|%40)[^\s@"'<>(),;:[\]\\/?#&=]+\.[A-Za-z]{2,}/gi;

export function scrubPii(text: string, email?: string): string {
  let out = text;
  if (email) {
    const masked = maskEmail(email);
    for (const form of new Set([email, encodeURIComponent(email)])) {
      out = out.replace(new RegExp(escapeRegExp(form), 'gi'), masked);
    }
  }
  return out.replace(EMAIL_LIKE, (match) => maskEmail(match.replace(/%40/gi, '@')));
}

/** Keeps stored text bounded (the whole record must stay far below DynamoDB's 400 KB item limit). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
