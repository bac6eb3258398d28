// The operator page's script (README "The operator page"), inlined by operator-page.ts under a
// hash-pinned Content-Security-Policy. It calls the same HTTP API as everyone else, and builds
// every element with createElement/textContent: no value from the API is ever parsed as HTML.
'use strict';
(() => {
  const DAY_MS = 86_400_000;
  const dueSoonDays = Number(document.body.dataset.dueSoonDays) || 5;
  const byId = (id) => document.getElementById(id);
  const rows = byId('request-rows');
  const listStatus = byId('list-status');
  let nextCursor = null;
  let openId = null;

  /** An element with a class and children (strings become text nodes). */
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) node.append(child);
    return node;
  }

  class ApiProblem extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method,
        cache: 'no-store',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiProblem(0, 'UNREACHABLE', 'the local API did not answer (is `serve` still running?)');
    }
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json')
      ? await res.json().catch(() => null)
      : null;
    if (!res.ok) {
      const error = json?.error ?? {};
      throw new ApiProblem(
        res.status,
        String(error.code ?? `HTTP_${res.status}`),
        String(error.message ?? ''),
      );
    }
    return { status: res.status, json };
  }

  /** `2026-01-31T10:00:00.000Z` → `2026-01-31 10:00`. */
  const minute = (iso) => (typeof iso === 'string' ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '—');

  const effectiveDue = (r) => r.extendedDueAt ?? r.dueAt;

  /** The due date's colour and the days-left text: answered, overdue, due soon, or time left. */
  function deadline(r, now) {
    if (r.status === 'COMPLETED') return { className: 'due-done', text: 'answered' };
    const left = (Date.parse(effectiveDue(r)) - now) / DAY_MS;
    if (r.overdue || left < 0) {
      return { className: 'due-overdue', text: `overdue by ${Math.max(1, Math.floor(-left))} d` };
    }
    const days = Math.floor(left);
    return { className: left <= dueSoonDays ? 'due-soon' : 'due-ok', text: `${days} d left` };
  }

  function query() {
    const params = new URLSearchParams();
    for (const name of ['status', 'type', 'overdue']) {
      const value = byId(`filter-${name}`).value;
      if (value) params.set(name, value);
    }
    params.set('limit', '100');
    return params;
  }

  async function loadRequests(append) {
    const params = query();
    if (append && nextCursor) params.set('cursor', nextCursor);
    listStatus.textContent = 'Loading…';
    try {
      const { json } = await api('GET', `/requests?${params}`);
      if (!append) rows.replaceChildren();
      const now = Date.now();
      for (const r of json.requests) rows.append(requestRow(r, now));
      if (rows.childElementCount === 0) {
        const cell = el('td', 'empty', 'No requests match these filters.');
        cell.colSpan = 8;
        rows.append(el('tr', 'empty-row', cell));
      }
      nextCursor = json.nextCursor;
      byId('more').hidden = !nextCursor;
      const shown = rows.querySelectorAll('tr[data-request-id]').length;
      listStatus.textContent = `${shown} request${shown === 1 ? '' : 's'} shown`;
    } catch (err) {
      listStatus.textContent = `Could not load the requests: ${err.message}`;
    }
  }

  function requestRow(r, now) {
    const due = deadline(r, now);
    const tr = el('tr');
    tr.dataset.requestId = r.requestId;
    if (r.requestId === openId) tr.classList.add('selected');
    const status = el('td', `status status-${r.status}`, r.status);
    const dueCell = el('td', `due ${due.className}`, minute(effectiveDue(r)));
    if (r.extendedDueAt) dueCell.append(el('span', 'muted', ' (extended)'));
    const open = el('button', 'open', 'Timeline');
    open.type = 'button';
    open.setAttribute('aria-label', `Timeline of request ${r.requestId}`);
    open.addEventListener('click', () => openRequest(r.requestId));
    tr.append(
      status,
      el('td', 'type', r.dryRun ? `${r.type} (dry run)` : r.type),
      el('td', 'jurisdiction', r.jurisdiction),
      el('td', 'received', minute(r.receivedAt)),
      dueCell,
      el('td', `days-left ${due.className}`, due.text),
      el('td', 'email', r.maskedEmail),
      el('td', '', open),
    );
    return tr;
  }

  function field(list, label, value) {
    list.append(
      el('dt', '', label),
      el('dd', '', value === null || value === undefined ? '—' : String(value)),
    );
  }

  async function openRequest(requestId) {
    openId = requestId;
    for (const tr of rows.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    rows.querySelector(`tr[data-request-id="${CSS.escape(requestId)}"]`)?.classList.add('selected');
    result('', true);
    try {
      const { json } = await api('GET', `/requests/${encodeURIComponent(requestId)}`);
      showRequest(json);
    } catch (err) {
      result(`Could not open the request: ${err.message}`, false);
    }
  }

  function showRequest(doc) {
    const section = byId('detail');
    section.hidden = false;
    byId('detail-title').textContent = `Request ${doc.requestId}`;
    const fields = byId('detail-fields');
    fields.replaceChildren();
    field(fields, 'Status', doc.status);
    field(fields, 'Type', doc.dryRun ? `${doc.type} (dry run)` : doc.type);
    field(fields, 'Email', doc.maskedEmail);
    field(fields, 'Jurisdiction', doc.jurisdiction);
    field(fields, 'Channel', doc.channel);
    field(fields, 'Source', doc.source);
    field(fields, 'Received', minute(doc.receivedAt));
    field(fields, 'Due', minute(doc.dueAt));
    field(fields, 'Extended to', doc.extendedDueAt ? minute(doc.extendedDueAt) : null);
    field(fields, 'Answered', doc.respondedAt ? minute(doc.respondedAt) : null);
    field(fields, 'Outcome', doc.outcome);
    field(fields, 'Days to respond', doc.daysToRespond);
    if (doc.error) field(fields, 'Error', `${doc.error.code}: ${doc.error.message}`);

    byId('retry-box').hidden = doc.status !== 'FAILED';
    const note = byId('extend-note');
    const extendable =
      doc.status !== 'COMPLETED' && !doc.extendedDueAt && Date.now() <= Date.parse(doc.dueAt);
    byId('extend-box').hidden = !extendable;
    note.hidden = extendable;
    if (doc.status === 'COMPLETED') note.textContent = 'Answered: no extension needed.';
    else if (doc.extendedDueAt) note.textContent = `Already extended once, to ${minute(doc.extendedDueAt)}.`;
    else
      note.textContent = 'Past the first due date: an extension had to be announced within the first period.';

    const timeline = byId('timeline');
    timeline.replaceChildren();
    for (const entry of doc.timeline ?? []) {
      const at = el('time', '', minute(entry.at));
      at.dateTime = entry.at;
      timeline.append(
        el('li', '', at, el('span', 'step', entry.step), el('span', 'entry-detail', entry.detail ?? '')),
      );
    }
    section.scrollIntoView({ block: 'nearest' });
  }

  function result(text, ok) {
    const node = byId('action-result');
    node.className = ok ? 'result-ok' : 'result-bad';
    node.textContent = text;
  }

  async function act(button, action) {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      result(`${err.code}: ${err.message}`, false);
    } finally {
      button.disabled = false;
    }
  }

  byId('retry').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      const id = openId;
      const { json } = await api('POST', `/requests/${encodeURIComponent(id)}/retry`, {});
      await Promise.all([openRequest(id), loadRequests(false)]);
      result(`Retry started: the request is ${json.status}.`, true);
    }),
  );

  byId('extend').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      const id = openId;
      const reason = byId('extend-reason').value.trim();
      if (!reason) throw new ApiProblem(0, 'REASON_REQUIRED', 'say why the longer period is needed');
      const { json } = await api('POST', `/requests/${encodeURIComponent(id)}/extend`, { reason });
      byId('extend-reason').value = '';
      showRequest(await api('GET', `/requests/${encodeURIComponent(id)}`).then((r) => r.json));
      await loadRequests(false);
      result(`Due date extended to ${minute(json.extendedDueAt)}.`, true);
    }),
  );

  byId('detail-close').addEventListener('click', () => {
    byId('detail').hidden = true;
    openId = null;
    for (const tr of rows.querySelectorAll('tr.selected')) tr.classList.remove('selected');
  });

  async function checkHealth() {
    const box = byId('health');
    const text = byId('health-text');
    box.className = 'health health-unknown';
    text.textContent = 'Checking the Qualtrics connection…';
    try {
      const { json } = await api('GET', '/health');
      box.className = 'health health-ok';
      text.textContent = `Qualtrics connection OK: ${json.qualtrics.origin} (brand ${json.qualtrics.brandId}), checked ${minute(json.checkedAt)}`;
    } catch (err) {
      box.className = 'health health-bad';
      text.textContent = `Qualtrics connection failing: ${err.code}${err.message ? `: ${err.message}` : ''}`;
    }
  }

  for (const name of ['status', 'type', 'overdue']) {
    byId(`filter-${name}`).addEventListener('change', () => loadRequests(false));
  }
  byId('filters').addEventListener('submit', (event) => event.preventDefault());
  byId('refresh').addEventListener('click', () => {
    loadRequests(false);
    if (openId) openRequest(openId);
  });
  byId('more').addEventListener('click', () => loadRequests(true));
  byId('health-check').addEventListener('click', checkHealth);

  loadRequests(false);
  checkHealth();
})();
