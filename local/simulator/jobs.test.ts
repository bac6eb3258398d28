import { afterEach, describe, expect, it } from 'vitest';
import { SEEDED_SUBJECT, type Simulator, type SimulatorOptions, startSimulator } from './index';
import { api, directoryIds, emailFilter, manualClock, sleep, token } from './test-support';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<{ s: Simulator; bearer: string }> {
  sim = await startSimulator(options);
  return { s: sim, bearer: await token(sim) };
}

const erase = (emails: unknown, searchOnly: unknown = false) => ({ emails, searchOnly });

describe('customer-data jobs', () => {
  it('progress with scaled time, then complete with byte-stable files', async () => {
    const t = manualClock();
    // 20 000 simulated ms × 0.1 = 2 000 ms of manual clock
    const { s, bearer } = await start({ clock: t.clock, timeScale: 0.1, customerDataJobMs: 20_000 });
    const created = await api(s, bearer, 'POST', '/customer-data-requests', { email: SEEDED_SUBJECT });
    expect(created.status).toBe(200);
    const id = created.json.result.customerDataRequestId as string;
    expect(id).toMatch(/^CDR_[A-Za-z0-9]{15}$/);

    const progress = async () => (await api(s, bearer, 'GET', `/customer-data-requests/${id}`)).json.result;
    expect(await progress()).toEqual({ status: 'inProgress', percentComplete: 0, fileIds: [] });
    t.advance(1000);
    expect(await progress()).toEqual({ status: 'inProgress', percentComplete: 50, fileIds: [] });
    t.advance(999);
    expect((await progress()).status).toBe('inProgress');
    t.advance(1);
    const done = await progress();
    expect(done.status).toBe('complete');
    expect(done.percentComplete).toBe(100);
    expect(done.fileIds).toHaveLength(2);
    expect(s.customerDataJobs()).toEqual([
      { id, status: 'complete', createdAt: t.clock() - 2000, completedAt: t.clock(), fileIds: done.fileIds },
    ]);

    const responses: unknown[] = [];
    for (const fileId of done.fileIds as string[]) {
      const first = await fetch(`${s.url}/API/v3/customer-data-requests/${id}/files/${fileId}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('application/json');
      const bytes = Buffer.from(await first.arrayBuffer());
      expect(bytes.equals(s.fileBytes(id, fileId))).toBe(true);
      t.advance(60_000);
      const again = await fetch(`${s.url}/API/v3/customer-data-requests/${id}/files/${fileId}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
      const doc = JSON.parse(bytes.toString('utf8'));
      expect(doc.meta).toBeUndefined(); // raw file, not the envelope
      expect(doc.customerDataRequestId).toBe(id);
      expect(doc.fileId).toBe(fileId);
      responses.push(...doc.responses);
    }
    expect(responses).toHaveLength(3); // the seeded subject's three synthetic responses
    expect(s.counters().byEndpoint.downloadCustomerDataFile!.requests).toBe(4);
  });

  it('answers 404 for an unknown job, an unknown file, and a file before completion', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, customerDataJobMs: 1000 });
    const unknown = await api(s, bearer, 'GET', '/customer-data-requests/CDR_000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.json.meta.error.errorCode).toBe('RESOURCE_NOT_FOUND');
    const id = (await api(s, bearer, 'POST', '/customer-data-requests', { email: SEEDED_SUBJECT })).json
      .result.customerDataRequestId;
    expect(
      (await api(s, bearer, 'GET', `/customer-data-requests/${id}/files/CDF_000000000000000`)).status,
    ).toBe(404);
    t.advance(1000);
    expect((await api(s, bearer, 'GET', `/customer-data-requests/${id}`)).json.result.status).toBe(
      'complete',
    );
    expect(
      (await api(s, bearer, 'GET', `/customer-data-requests/${id}/files/CDF_000000000000000`)).status,
    ).toBe(404);
    expect(() => s.fileBytes(id, 'CDF_000000000000000')).toThrow();
  });

  it('validates the create body', async () => {
    const { s, bearer } = await start();
    for (const body of [{}, { email: 'not an email' }, { email: 42 }, []]) {
      const a = await api(s, bearer, 'POST', '/customer-data-requests', body);
      expect(a.status).toBe(400);
      expect(a.json.meta.error.errorCode).toBe('QVAL_1');
    }
    const notJson = await fetch(`${s.url}/API/v3/customer-data-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect(s.customerDataJobs()).toEqual([]);
  });

  it('failCustomerDataJobs ends jobs in status failed without files', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, customerDataJobMs: 100, failCustomerDataJobs: true });
    const id = (await api(s, bearer, 'POST', '/customer-data-requests', { email: SEEDED_SUBJECT })).json
      .result.customerDataRequestId;
    t.advance(100);
    const p = (await api(s, bearer, 'GET', `/customer-data-requests/${id}`)).json.result;
    expect(p.status).toBe('failed');
    expect(p.fileIds).toEqual([]);
    expect(typeof p.failureReason).toBe('string');
    // turning the switch off affects only jobs created afterwards
    s.setOptions({ failCustomerDataJobs: false });
    expect(s.customerDataJobs()[0]!.status).toBe('failed');
  });

  it('completes on the real clock with a small timeScale', async () => {
    const { s, bearer } = await start({ timeScale: 0.001, customerDataJobMs: 20_000, customerDataFiles: 3 });
    const id = (await api(s, bearer, 'POST', '/customer-data-requests', { email: 'nobody@example.com' })).json
      .result.customerDataRequestId;
    let status = 'inProgress';
    let fileIds: string[] = [];
    for (let i = 0; i < 500 && status === 'inProgress'; i++) {
      const p = (await api(s, bearer, 'GET', `/customer-data-requests/${id}`)).json.result;
      status = p.status;
      fileIds = p.fileIds;
      if (status === 'inProgress') await sleep(10);
    }
    expect(status).toBe('complete');
    expect(fileIds).toHaveLength(3);
    const doc = JSON.parse(s.fileBytes(id, fileIds[0]!).toString('utf8'));
    expect(doc.responses).toEqual([]);
  });
});

describe('erasures', () => {
  it('GET by id answers 404 until Completed; the list shows Pending → InProgress → Completed', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, erasureJobMs: 1000 });
    const created = await api(s, bearer, 'POST', '/op-erase-personal-data', erase([SEEDED_SUBJECT]));
    expect(created.status).toBe(200);
    const id = created.json.result.requestId as string;
    expect(id).toMatch(/^OP-[0-9a-f-]{36}$/);
    expect(created.json.result.user).toMatch(/^UR_/);
    expect(created.json.result.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const listStatus = async () => {
      const l = await api(s, bearer, 'GET', '/op-erase-personal-data');
      expect(l.json.result.nextPage).toBeNull();
      return l.json.result.elements.find((e: { requestid: string }) => e.requestid === id).status;
    };
    const byId = () => api(s, bearer, 'GET', `/op-erase-personal-data/${id}`);

    expect(await listStatus()).toBe('Pending');
    const early = await byId();
    expect(early.status).toBe(404);
    expect(early.json.meta.error.errorCode).toBe('RESOURCE_NOT_FOUND');
    t.advance(500);
    expect(await listStatus()).toBe('InProgress');
    expect((await byId()).status).toBe(404);
    t.advance(500);
    const done = await byId();
    expect(done.status).toBe(200);
    expect(done.json.result).toMatchObject({
      requestid: id,
      status: 'Completed',
      numEmailsRequested: 1,
      emailsNotFound: [],
      emailList: [SEEDED_SUBJECT],
      searchOnly: false,
      failureReason: null,
    });
    expect(await listStatus()).toBe('Completed');
    expect(s.erasures()).toEqual([
      { id, status: 'Completed', searchOnly: false, createdAt: t.clock() - 1000, completedAt: t.clock() },
    ]);
  });

  it('really removes matching contacts from every directory and fills emailsNotFound', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, erasureJobMs: 10 });
    expect(s.contactsWithEmail(SEEDED_SUBJECT)).toHaveLength(4);
    const before = s.contactsWithEmail('alex.jones@example.org');
    expect(before).toHaveLength(2);
    const id = (
      await api(
        s,
        bearer,
        'POST',
        '/op-erase-personal-data',
        erase(['SOMEONE@EXAMPLE.COM', 'nobody@example.com']),
      )
    ).json.result.requestId;
    expect(s.contactsWithEmail(SEEDED_SUBJECT)).toHaveLength(4); // nothing happens before completion
    t.advance(10);
    const done = (await api(s, bearer, 'GET', `/op-erase-personal-data/${id}`)).json.result;
    expect(done.emailsNotFound).toEqual(['nobody@example.com']);
    expect(s.contactsWithEmail(SEEDED_SUBJECT)).toEqual([]);
    expect(s.contactsWithEmail('alex.jones@example.org')).toEqual(before);
    for (const dir of await directoryIds(s, bearer)) {
      const hits = await api(
        s,
        bearer,
        'POST',
        `/directories/${dir}/contacts/search`,
        emailFilter(SEEDED_SUBJECT),
      );
      expect(hits.json.result.elements).toEqual([]);
    }
    // the subject's responses are gone too: a later access job exports nothing
    const job = (await api(s, bearer, 'POST', '/customer-data-requests', { email: SEEDED_SUBJECT })).json
      .result.customerDataRequestId;
    t.advance(20_000);
    const files = s.customerDataJobs().find((j) => j.id === job)!.fileIds;
    const responses = files.flatMap((f) => JSON.parse(s.fileBytes(job, f).toString('utf8')).responses);
    expect(responses).toEqual([]);
  });

  it('searchOnly reports what it found and changes nothing', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, erasureJobMs: 10 });
    const before = s.contactsWithEmail(SEEDED_SUBJECT);
    const id = (
      await api(
        s,
        bearer,
        'POST',
        '/op-erase-personal-data',
        erase([SEEDED_SUBJECT, 'nobody@example.net'], true),
      )
    ).json.result.requestId;
    t.advance(10);
    const done = (await api(s, bearer, 'GET', `/op-erase-personal-data/${id}`)).json.result;
    expect(done).toMatchObject({
      status: 'Completed',
      searchOnly: true,
      emailsNotFound: ['nobody@example.net'],
    });
    expect(s.contactsWithEmail(SEEDED_SUBJECT)).toEqual(before);
    expect(s.erasures()[0]!.searchOnly).toBe(true);
  });

  it('failErasures ends in Failed with a failureReason, visible by id, and erases nothing', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, erasureJobMs: 10, failErasures: true });
    const id = (await api(s, bearer, 'POST', '/op-erase-personal-data', erase([SEEDED_SUBJECT]))).json.result
      .requestId;
    t.advance(10);
    const a = await api(s, bearer, 'GET', `/op-erase-personal-data/${id}`);
    expect(a.status).toBe(200);
    expect(a.json.result.status).toBe('Failed');
    expect(typeof a.json.result.failureReason).toBe('string');
    expect(s.contactsWithEmail(SEEDED_SUBJECT)).toHaveLength(4);
  });

  it('validates the create body with 400 QVAL_1', async () => {
    const { s, bearer } = await start();
    const tooMany = Array.from({ length: 501 }, (_v, i) => `p${i}@example.com`);
    for (const body of [
      erase([]),
      erase(tooMany),
      erase('a@example.com'),
      erase([1]),
      erase(['a@example.com'], 'no'),
      {},
    ]) {
      const a = await api(s, bearer, 'POST', '/op-erase-personal-data', body);
      expect(a.status).toBe(400);
      expect(a.json.meta.error.errorCode).toBe('QVAL_1');
    }
    expect(s.erasures()).toEqual([]);
    const max = await api(s, bearer, 'POST', '/op-erase-personal-data', erase(tooMany.slice(0, 500), true));
    expect(max.status).toBe(200);
  });

  it('pages the erasure list', async () => {
    const { s, bearer } = await start({ pageSizeCap: 1 });
    for (let i = 0; i < 3; i++) {
      await api(s, bearer, 'POST', '/op-erase-personal-data', erase([`p${i}@example.com`], true));
    }
    const first = await api(s, bearer, 'GET', '/op-erase-personal-data');
    expect(first.json.result.elements).toHaveLength(1);
    const second = await api(s, bearer, 'GET', first.json.result.nextPage);
    const third = await api(s, bearer, 'GET', second.json.result.nextPage);
    expect(third.json.result.nextPage).toBeNull();
    const ids = [first, second, third].map((p) => p.json.result.elements[0].requestid);
    expect(ids).toEqual(s.erasures().map((e) => e.id));
  });
});
