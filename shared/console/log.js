// The event log: deliveries newest first with filters and paging (GET /v1/deliveries), one
// delivery's attempts in full, redelivery, and recovering a webhook's failed deliveries.
import {
  h, clear, api, get, qs, field, input, select, head, link, table, empty, toast, showError, clearErrors,
  confirmDialog, badge, when, json, toRfc, toLocalInput, EVENT_TYPES,
} from './ui.js';

const enc = encodeURIComponent;
const FILTERS = ['webhookId', 'triggerId', 'eventType', 'status', 'since', 'until'];
// Cursors of the pages before this one, for "Newer".
let trail = [];

export function render(el, id, query) {
  return id ? detail(el, id) : list(el, query);
}

function destination(d, names) {
  if (d.webhookId) return names[d.webhookId] || d.webhookId;
  const t = d.target || {};
  return t.kind === 'url' ? t.url : t.kind === 'sms' ? `SMS sender ${t.senderId}` : t.webhookId || '—';
}

async function list(el, query) {
  const f = Object.fromEntries(FILTERS.map(k => [k, query.get(k) || '']));
  const cursor = query.get('cursor') || '';
  if (!cursor) trail = [];
  const [page, { webhooks }, { triggers }] = await Promise.all([
    get(`v1/deliveries${qs({ ...f, limit: 25, cursor })}`), get('v1/webhooks'), get('v1/triggers')]);
  const names = Object.fromEntries(webhooks.map(w => [w.id, w.name]));
  const go = (extra = {}) => { location.hash = `#/log${qs({ ...f, ...extra })}`; };

  const ctl = {
    webhookId: select([['', 'Any webhook'], ...webhooks.map(w => [w.id, w.name])], f.webhookId),
    triggerId: select([['', 'Any trigger'], ...triggers.map(t => [t.id, t.name])], f.triggerId),
    eventType: select([['', 'Any event type'], ...EVENT_TYPES.map(([v]) => [v, v]), ['ringhook.test', 'ringhook.test (test events)'], ...(f.eventType && !EVENT_TYPES.some(e => e[0] === f.eventType) ? [[f.eventType, f.eventType]] : [])], f.eventType),
    status: select([['', 'Any status'], 'pending', 'succeeded', 'failed'], f.status),
    since: input({ type: 'datetime-local', value: toLocalInput(f.since) }),
    until: input({ type: 'datetime-local', value: toLocalInput(f.until) }),
  };
  const labels = { webhookId: 'Webhook', triggerId: 'Trigger', eventType: 'Event type', status: 'Status', since: 'From', until: 'Until' };
  const filters = h('form', { novalidate: true, 'aria-label': 'Filters', class: 'card', onsubmit: e => {
    e.preventDefault();
    const v = Object.fromEntries(FILTERS.map(k => [k, k === 'since' || k === 'until' ? toRfc(ctl[k].value) : ctl[k].value]));
    location.hash = `#/log${qs(v)}`;
  } },
  h('div', { class: 'grid3' }, FILTERS.map(k => field(labels[k], ctl[k], { path: k }))),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
    h('button', { type: 'button', onclick: () => { location.hash = '#/log'; } }, 'Clear')));

  const rows = page.deliveries.map(d => h('tr', { 'data-id': d.id },
    h('td', {}, link(`#/log/${enc(d.id)}`, when(d.createdAtMs))),
    h('td', {}, d.eventType),
    h('td', { class: 'name' }, destination(d, names)),
    h('td', {}, badge(d.status)),
    h('td', {}, String(d.attempts)),
    h('td', { class: 'name' }, d.lastStatus ?? '', d.lastError ? h('div', { class: 'muted small' }, d.lastError) : null)));
  const older = page.nextCursor ? h('button', { type: 'button', onclick: () => { trail.push(cursor); go({ cursor: page.nextCursor }); } }, 'Older') : null;
  const newer = cursor ? h('button', { type: 'button', onclick: () => { go({ cursor: trail.pop() || '' }); } }, 'Newer') : null;
  const any = FILTERS.some(k => f[k]);
  clear(el, head('Event log'), filters,
    f.webhookId ? recover(f.webhookId, names[f.webhookId]) : null,
    page.deliveries.length
      ? [table(['Created', 'Event type', 'Destination', 'Status', 'Attempts', 'Last response'], rows), h('div', { class: 'actions' }, newer, older)]
      : empty(any ? 'No deliveries match these filters.' : 'No deliveries yet. They appear here as soon as an event fires a trigger or a notification.'));
}

function recover(webhookId, name) {
  const since = input({ type: 'datetime-local', value: toLocalInput(Date.now() - 864e5) });
  const form = h('form', { novalidate: true, class: 'card', 'aria-label': 'Recover failed deliveries', onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    if (!await confirmDialog('Send failed deliveries again?', `Every failed delivery to "${name || webhookId}" created since then is queued again, as a new retry series.`, 'Recover')) return;
    try {
      const r = await api('POST', `v1/webhooks/${enc(webhookId)}/recover`, { since: toRfc(since.value) || since.value });
      toast(`${r.recovered} failed ${r.recovered === 1 ? 'delivery' : 'deliveries'} queued again`);
      form.append(h('p', { class: 'notice', role: 'status' }, `${r.recovered} queued again.`));
    } catch (err) { showError(form, err); }
  } },
  h('h2', {}, 'Recover failed deliveries'),
  h('div', { class: 'row' }, field('Failed since', since, { path: 'since' }), h('button', { type: 'submit' }, 'Recover')));
  return form;
}

async function detail(el, id) {
  const [d, { webhooks }] = await Promise.all([get(`v1/deliveries/${enc(id)}`), get('v1/webhooks')]);
  const names = Object.fromEntries(webhooks.map(w => [w.id, w.name]));
  const out = h('div', { 'aria-live': 'polite' });
  const redeliver = h('button', { type: 'button', class: 'primary', onclick: async () => {
    redeliver.disabled = true;
    try {
      await api('POST', `v1/deliveries/${enc(id)}/redeliver`);
      clear(out, h('p', { class: 'notice', role: 'status' }, 'Queued again. Waiting for the attempt…'));
      // Show the new attempt when it is logged (a few seconds at most for a live receiver).
      for (let i = 0; i < 40; i++) {
        await new Promise(r => setTimeout(r, 250));
        const now = await get(`v1/deliveries/${enc(id)}`);
        if (now.attemptCount > d.attemptCount && now.status !== 'pending') break;
      }
      toast('Redelivered');
      return detail(el, id);
    } catch (err) {
      clear(out, h('div', { class: 'form-error', role: 'alert' }, `${err.error} — ${err.detail}`));
    } finally { redeliver.disabled = false; }
  } }, 'Redeliver');
  const facts = [
    ['Status', badge(d.status)], ['Delivery id', d.id], ['Event', `${d.eventType} · ${d.eventId}`],
    ['Destination', d.webhookId ? link(`#/webhooks/${enc(d.webhookId)}`, destination(d, names)) : destination(d, names)],
    d.triggerId ? ['Trigger', link(`#/triggers/${enc(d.triggerId)}`, d.triggerId)] : null,
    d.product ? ['Product', d.product] : null,
    ['Created', when(d.createdAtMs)], d.completedAtMs ? ['Finished', when(d.completedAtMs)] : null,
    d.nextAttemptAtMs && d.status === 'pending' ? ['Next attempt', when(d.nextAttemptAtMs)] : null,
    ['Attempts', String(d.attemptCount)], ['Retry policy', d.retryPolicy],
    d.smsStatus ? ['SMS status', d.smsStatus] : null, d.unsendable ? ['Not sendable', d.unsendable] : null,
  ].filter(Boolean);
  clear(el,
    head(`Delivery ${d.id}`, redeliver, link('#/log', 'Event log')), out,
    h('div', { class: 'card' }, h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('h2', {}, 'Payload'), h('pre', {}, json(d.payload)),
    h('h2', {}, `Attempts (${d.attempts.length})`),
    d.attempts.length ? d.attempts.map((a, i) => attempt(a, i === d.attempts.length - 1)) : empty(d.status === 'pending' ? 'Not attempted yet.' : 'No attempt was logged.'));
}

function attempt(a, open) {
  const r = a.response;
  const state = a.success ? 'succeeded' : 'failed';
  return h('details', { class: 'attempt', open, 'data-attempt': a.number },
    h('summary', {}, h('strong', {}, `Attempt ${a.number}`), badge(state), r ? `HTTP ${r.status}` : (a.error ? 'no response' : ''),
      h('span', { class: 'muted' }, `${a.latencyMs} ms`), h('span', { class: 'muted' }, when(a.startedAtMs))),
    h('div', {},
      a.error ? h('p', { class: 'form-error', 'data-attempt-error': '' }, a.error) : null,
      h('h3', {}, 'Request'),
      h('p', { class: 'name' }, h('code', {}, `${a.request.method} ${a.request.url}`)),
      a.request.headers.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'headers' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Header'), h('th', { scope: 'col' }, 'Value'))),
        h('tbody', {}, a.request.headers.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'name' }, v)))))) : null,
      a.request.body ? h('pre', { 'aria-label': 'Request body' }, pretty(a.request.body)) : null,
      h('h3', {}, 'Response'),
      r ? [h('p', {}, `Status ${r.status}`, r.truncated ? ' (body cut at 10 KB)' : ''), r.body ? h('pre', { 'aria-label': 'Response body' }, pretty(r.body)) : h('p', { class: 'muted' }, 'Empty body')]
        : h('p', { class: 'muted' }, 'No response.'),
      a.sms ? [h('h3', {}, 'SMS'), h('pre', {}, json(a.sms))] : null));
}

function pretty(text) {
  try { return json(JSON.parse(text)); } catch { return text; }
}
