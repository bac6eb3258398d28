// biome-ignore-all lint/performance/useDomNodeTextContent: Locator.innerText() is the rendered text a person sees (what this test asserts), not the DOM property
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { type ApiWorld, startApiWorld } from '../api/harness';

/**
 * The operator page (README "The operator page") in a real browser: Debian's Chromium, headless,
 * driven by playwright-core against the local API as `serve` runs it (the simulator behind it),
 * with a ledger seeded to show each colour of due date. It asserts what a person sees — rows,
 * colours, filters narrowing the rows, a timeline, extend and retry working, the connection's
 * health, no raw email anywhere, a hostile value shown as text — and saves a screenshot of each
 * step under test-output/operator-page/. CI installs Chromium (.ci/run); without it the file is
 * skipped, saying so.
 */

// What the functions run in the browser use (the project's TypeScript lib has no DOM).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const window: { __pwned?: number };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `operator page browser test SKIPPED: no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium; CI does)`,
  );
}

const SHOTS = join(__dirname, '..', '..', 'test-output', 'operator-page');
const DAY = 86_400_000;
const EMAILS = {
  completed: SEEDED_SUBJECT,
  failed: 'operator.failed@example.com',
  overdue: 'operator.overdue@example.com',
  soon: 'operator.soon@example.com',
  ok: 'operator.ok@example.com',
  hostile: 'operator.hostile@example.com',
};
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
/** Computed background colours of the page's due-date classes (page.css). */
const COLOUR = {
  overdue: 'rgb(253, 226, 225)',
  soon: 'rgb(255, 241, 194)',
  ok: 'rgb(227, 245, 230)',
  done: 'rgb(236, 239, 242)',
};

let w: ApiWorld;
let context: BrowserContext;
let page: Page;
let profile: string;
const ids = {} as Record<keyof typeof EMAILS, string>;
const problems: string[] = [];
const foreignRequests: string[] = [];

async function submit(body: Record<string, unknown>): Promise<{ status: number; requestId: string }> {
  const res = await fetch(`${w.url}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { requestId?: string; error?: { message: string } };
  const requestId = json.requestId ?? /request ([0-9a-f-]{36})/.exec(json.error?.message ?? '')?.[1];
  if (!requestId) throw new Error(`no request id in ${JSON.stringify(json)}`);
  return { status: res.status, requestId };
}

async function statusOf(requestId: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${w.url}/requests/${requestId}`)).json()) as Record<string, unknown>;
}

async function seed(): Promise<void> {
  const now = Date.now();
  ids.completed = (await submit({ type: 'deletion', email: EMAILS.completed, dryRun: true })).requestId;
  await w.workflows.settled(ids.completed);
  w.failStarts = true; // Step Functions "down": the request is FAILED at once, and retryable
  ids.failed = (await submit({ type: 'access', email: EMAILS.failed, jurisdiction: 'uk-gdpr' })).requestId;
  w.failStarts = false;
  w.hold(); // from here on requests stay open
  const ccpa = (email: string, receivedAgoDays: number) =>
    submit({
      type: 'access',
      email,
      jurisdiction: 'ccpa',
      receivedAt: new Date(now - receivedAgoDays * DAY).toISOString(),
    });
  ids.overdue = (await ccpa(EMAILS.overdue, 55)).requestId; // due 10 days ago
  ids.soon = (await ccpa(EMAILS.soon, 42.5)).requestId; // due in 2.5 days
  ids.ok = (await ccpa(EMAILS.ok, 4.5)).requestId; // due in 40.5 days
  ids.hostile = (await submit({ type: 'deletion', email: EMAILS.hostile })).requestId;
  // An error text is free text: whatever it says must reach the page as text.
  await workflowDeps().store.fail(ids.hostile, { code: 'HOSTILE', message: HOSTILE });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const row = (id: string) => page.locator(`tr[data-request-id="${id}"]`);
const shownIds = () =>
  page
    .locator('#request-rows tr[data-request-id]')
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-request-id')));

/** Clicks a row's Timeline button, as a person would, and waits for its details. */
async function openTimeline(id: string): Promise<void> {
  await row(id)
    .getByRole('button', { name: /Timeline/ })
    .click();
  await page.waitForSelector(`#detail-title:has-text("${id}")`);
}

/** Sets a filter and waits for the table to be redrawn from the API's answer. */
async function filter(name: 'status' | 'type' | 'overdue', value: string): Promise<void> {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/requests');
  await page.selectOption(`#filter-${name}`, value);
  await answered;
  await page.waitForFunction(
    () => !document.querySelector('#list-status')?.textContent?.startsWith('Loading'),
  );
}

describe.skipIf(!haveChromium)('the operator page in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    w = await startApiWorld();
    await seed();
    profile = mkdtempSync(join(tmpdir(), 'qdsr-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.location().url)) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(`${w.url}/`)) foreignRequests.push(r.url());
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await w?.close();
  });

  it('shows every request with its status, type, jurisdiction, dates and masked email', async () => {
    await page.goto(`${w.url}/`);
    await page.waitForSelector(`tr[data-request-id="${ids.hostile}"]`);
    expect(new Set(await shownIds())).toEqual(new Set(Object.values(ids)));
    const completed = await statusOf(ids.completed);
    const cells = await row(ids.completed).locator('td').allInnerTexts();
    expect(cells.slice(0, 7)).toEqual([
      'COMPLETED',
      'deletion (dry run)',
      'gdpr',
      `${String(completed.receivedAt).slice(0, 10)} ${String(completed.receivedAt).slice(11, 16)}`,
      `${String(completed.dueAt).slice(0, 10)} ${String(completed.dueAt).slice(11, 16)}`,
      'answered',
      String(completed.maskedEmail),
    ]);
    expect(await row(ids.failed).locator('td.status').innerText()).toBe('FAILED');
    expect(await row(ids.failed).locator('td.jurisdiction').innerText()).toBe('uk-gdpr');
    await shot('01-requests');
  });

  it('colours each due date by the days left: overdue red, due soon amber, time left green, answered grey', async () => {
    const look = async (id: string) => ({
      colour: await row(id)
        .locator('td.due')
        .first()
        .evaluate((td) => getComputedStyle(td).backgroundColor),
      left: await row(id).locator('td.days-left').innerText(),
    });
    expect(await look(ids.overdue)).toEqual({ colour: COLOUR.overdue, left: 'overdue by 10 d' });
    expect(await look(ids.soon)).toEqual({ colour: COLOUR.soon, left: '2 d left' });
    expect(await look(ids.ok)).toEqual({ colour: COLOUR.ok, left: '40 d left' });
    expect(await look(ids.completed)).toEqual({ colour: COLOUR.done, left: 'answered' });
  });

  it('shows the Qualtrics connection’s health', async () => {
    await page.waitForSelector('#health.health-ok');
    const text = await page.locator('#health-text').innerText();
    expect(text).toContain('Qualtrics connection OK');
    expect(text).toContain(w.sim.url);
  });

  it('filters narrow the rows: status, type, overdue', async () => {
    await filter('status', 'FAILED');
    expect(new Set(await shownIds())).toEqual(new Set([ids.failed, ids.hostile]));
    await shot('02-filter-failed');
    await filter('type', 'deletion');
    expect(await shownIds()).toEqual([ids.hostile]);
    await filter('status', '');
    expect(new Set(await shownIds())).toEqual(new Set([ids.completed, ids.hostile]));
    await filter('type', '');
    await filter('overdue', 'true');
    expect(await shownIds()).toEqual([ids.overdue]);
    await shot('03-filter-overdue');
    await filter('overdue', 'false');
    expect(new Set(await shownIds())).toEqual(new Set(Object.values(ids).filter((id) => id !== ids.overdue)));
    await filter('overdue', '');
    expect(await shownIds()).toHaveLength(Object.keys(ids).length);
  });

  it("opens a request's timeline", async () => {
    await openTimeline(ids.completed);
    expect(await page.locator('#detail').isVisible()).toBe(true);
    const steps = await page.locator('#timeline .step').allInnerTexts();
    expect(steps[0]).toBe('RECEIVED');
    expect(steps.at(-1)).toBe('COMPLETED');
    expect(steps.length).toBeGreaterThan(2);
    expect(await page.locator('#detail-fields').innerText()).toContain('dry-run');
    // Answered: neither retry nor extend is offered.
    expect(await page.locator('#retry-box').isVisible()).toBe(false);
    expect(await page.locator('#extend-box').isVisible()).toBe(false);
    await shot('04-timeline');
  });

  it('shows a hostile value as text: no element made of it, no script run', async () => {
    await openTimeline(ids.hostile);
    expect(await page.locator('#detail-fields').innerText()).toContain(`HOSTILE: ${HOSTILE}`);
    expect(await page.locator('#timeline').innerText()).toContain(HOSTILE);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    await shot('05-hostile-text');
  });

  it('extends an open request within its first period', async () => {
    await openTimeline(ids.ok);
    await page.fill('#extend-reason', 'Records held in three systems');
    await page.click('#extend');
    await page.waitForSelector('#action-result.result-ok');
    const doc = await statusOf(ids.ok);
    expect(doc.extendedDueAt).toEqual(expect.any(String));
    const extended = `${String(doc.extendedDueAt).slice(0, 10)} ${String(doc.extendedDueAt).slice(11, 16)}`;
    expect(await page.locator('#action-result').innerText()).toBe(`Due date extended to ${extended}.`);
    expect(await row(ids.ok).locator('td.due').first().innerText()).toBe(`${extended} (extended)`);
    expect(await row(ids.ok).locator('td.days-left').innerText()).toBe('85 d left');
    expect(await page.locator('#extend-box').isVisible()).toBe(false);
    expect(await page.locator('#extend-note').innerText()).toContain('Already extended once');
    expect(await page.locator('#timeline').innerText()).toContain('EXTENDED');
    await shot('06-extended');
  });

  it('retries a FAILED request', async () => {
    await openTimeline(ids.failed);
    expect(await page.locator('#retry-box').isVisible()).toBe(true);
    await page.click('#retry');
    await page.waitForSelector('#action-result.result-ok');
    expect(await page.locator('#action-result').innerText()).toMatch(
      /^Retry started: the request is (RECEIVED|RUNNING)\.$/,
    );
    expect(w.redrives.map((r) => r.requestId)).toEqual([ids.failed]);
    expect(await row(ids.failed).locator('td.status').innerText()).not.toBe('FAILED');
    expect(await page.locator('#timeline .step').allInnerTexts()).toContain('REOPENED');
    await shot('07-retried');
  });

  it('no raw email anywhere on the page; nothing loaded from elsewhere; no error, no CSP violation', async () => {
    const html = (await page.content()).toLowerCase();
    const text = (await page.locator('body').innerText()).toLowerCase();
    for (const email of Object.values(EMAILS)) {
      expect(html).not.toContain(email.toLowerCase());
      expect(text).not.toContain(email.toLowerCase());
    }
    expect(foreignRequests).toEqual([]);
    expect(problems).toEqual([]);
  });
});
