import { describe, expect, it } from 'vitest';
import { REQUEST_STATUSES, REQUEST_TYPES } from '../../../lambdas/core/request-contract';
import { DUE_SOON_DAYS, operatorPage, operatorPageResponse } from '.';

/** What can be checked of the page without a browser (test/browser drives it in Chromium). */
describe('operator page', () => {
  const page = operatorPage();

  it('loads nothing from anywhere: no URL, no src/href, no CSS import or url()', () => {
    expect(page.html).not.toMatch(/https?:\/\//i);
    expect(page.html).not.toMatch(/\s(src|href|srcset|action|formaction)\s*=/i);
    expect(page.style).not.toMatch(/@import|url\(/i);
    expect(page.html).not.toMatch(/<(link|iframe|object|embed|img|base)\b/i);
  });

  it('has no inline event handler, and its script never parses a value as HTML', () => {
    expect(page.html).not.toMatch(/<[^>]+\son[a-z]+\s*=/i);
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'Function(',
    ]) {
      expect(page.script).not.toContain(sink);
    }
    expect(page.script).toContain('textContent');
  });

  it("offers the request contract's statuses and types as filters", () => {
    for (const value of [...REQUEST_STATUSES, ...REQUEST_TYPES]) {
      expect(page.html).toContain(`<option value="${value}">${value}</option>`);
    }
    expect(page.html.match(/<option /g)).toHaveLength(REQUEST_STATUSES.length + REQUEST_TYPES.length + 5);
  });

  it('fills every slot, once per build', () => {
    expect(page.html).not.toContain('{{');
    expect(page.html).toContain(`data-due-soon-days="${DUE_SOON_DAYS}"`);
    expect(page.html).toContain(`<script>${page.script}</script>`);
    expect(page.html).toContain(`<style>${page.style}</style>`);
    expect(operatorPage()).toBe(page);
  });

  it('is served as HTML that nothing may frame or cache', () => {
    const res = operatorPageResponse();
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    expect(res.headers['content-security-policy']).toBe(page.contentSecurityPolicy);
    expect(page.contentSecurityPolicy.split('; ')).toEqual([
      "default-src 'none'",
      expect.stringMatching(/^script-src 'sha256-[A-Za-z0-9+/]{43}='$/),
      expect.stringMatching(/^style-src 'sha256-[A-Za-z0-9+/]{43}='$/),
      "connect-src 'self'",
      "img-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]);
  });
});
