import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiResponse } from '../../../lambdas/core/api/http';
import { REQUEST_STATUSES, REQUEST_TYPES } from '../../../lambdas/core/request-contract';

/**
 * The operator page `serve` answers `GET /` with (README "The operator page"): one HTML document
 * with its style and script inline, so it loads nothing from anywhere. The script only calls the
 * local HTTP API. A Content-Security-Policy pins the exact style and script by their SHA-256:
 * nothing else runs (no other inline script, no event-handler attribute, no eval), nothing is
 * loaded from another origin, and the page cannot be framed. The page never sees a raw email: the
 * API answers masked ones only.
 */

/** Days before its due date a request's due date turns amber (the default due-soon window). */
export const DUE_SOON_DAYS = 5;

export interface OperatorPage {
  html: string;
  contentSecurityPolicy: string;
  /** The inline script and style exactly as served (what the policy's hashes cover). */
  script: string;
  style: string;
}

let built: OperatorPage | undefined;

const options = (values: readonly string[]) =>
  values.map((v) => `<option value="${v}">${v}</option>`).join('\n        ');

export function operatorPage(): OperatorPage {
  built ??= buildPage();
  return built;
}

export function operatorPageResponse(): ApiResponse {
  const page = operatorPage();
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    },
    body: page.html,
  };
}

function buildPage(): OperatorPage {
  const read = (name: string) => readFileSync(join(__dirname, name), 'utf8');
  const script = read('page.js');
  const style = read('page.css');
  // The inline blocks must not end early: neither may contain its own closing tag.
  if (/<\/script/i.test(script) || /<\/style/i.test(style)) {
    throw new Error('the operator page script or style contains its closing tag');
  }
  const slots: Record<string, string> = {
    script: `<script>${script}</script>`,
    style: `<style>${style}</style>`,
    dueSoonDays: String(DUE_SOON_DAYS),
    // The filters offer what the request contract defines (its own names: nothing to escape).
    statusOptions: options(REQUEST_STATUSES),
    typeOptions: options(REQUEST_TYPES),
  };
  // Slots are `{{name}}`; the style and script elements stand in comments (`<!-- {{style}} -->`).
  const html = read('page.html').replace(/(?:<!-- )?\{\{(\w+)\}\}(?: -->)?/g, (_, name: string) => {
    const value = slots[name];
    if (value === undefined) throw new Error(`the operator page has no value for {{${name}}}`);
    return value;
  });
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy, script, style };
}
