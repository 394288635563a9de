// Webhooks: the list with last status and success rate (GET /v1/stats), the create/edit form,
// the signing secret shown once (at creation and rotation), rotation, and a test event.
import {
  h, clear, api, get, qs, field, input, select, head, link, table, empty, toast, showError, clearErrors,
  rowsEditor, confirmDialog, pct, when,
} from './ui.js';

const enc = encodeURIComponent;
const POLICIES = [
  ['exponential', 'Exponential — the Standard Webhooks schedule (default)'],
  ['fixed-10m-48h', 'Every 10 minutes for 48 hours (the triggers seed)'],
  ['single-retry', 'A single retry (the callback-notifications seed)'],
];

export function render(el, id, query) {
  return id ? edit(el, id === 'new' ? null : id, query) : list(el);
}

async function list(el) {
  const [{ webhooks }, stats] = await Promise.all([get('v1/webhooks'), get(`v1/stats${qs({ since: new Date(Date.now() - 864e5).toISOString() })}`)]);
  const of = Object.fromEntries(stats.destinations.filter(d => d.kind === 'webhook').map(d => [d.id, d]));
  const rows = webhooks.map(w => {
    const s = of[w.id];
    const last = s ? (s.lastStatus ?? (s.lastError ? 'error' : '—')) : '—';
    return h('tr', { 'data-id': w.id, class: s?.counts.failed ? 'failing' : null },
      h('td', { class: 'name' }, link(`#/webhooks/${enc(w.id)}`, w.name)),
      h('td', { class: 'name' }, w.url),
      h('td', {}, w.method),
      h('td', { 'data-last-status': String(last) }, String(last), s ? h('div', { class: 'muted small' }, when(s.lastAt)) : null),
      h('td', {}, s ? pct(s.counts.successRate) : '—', s ? h('div', { class: 'muted small' }, `${s.counts.succeeded + s.counts.failed + s.counts.pending} deliveries`) : null),
      h('td', {}, link(`#/log?webhookId=${enc(w.id)}`, 'Event log')));
  });
  clear(el, head('Webhooks', link('#/webhooks/new', 'New webhook', 'button primary')),
    webhooks.length
      ? [table(['Name', 'URL', 'Method', 'Last status', 'Success rate (24 h)', ''], rows)]
      : empty('No webhooks yet. A webhook is an HTTP endpoint that triggers and notifications deliver to.', link('#/webhooks/new', 'Create a webhook', 'button primary')));
}

function secretBox(title, secret, extra) {
  return h('div', { class: 'notice', role: 'status', id: 'secret-once' },
    h('strong', {}, title), h('p', {}, 'Copy it now: it is shown only this once. Receivers verify the webhook-signature header with it.'),
    h('code', { class: 'secret', 'data-secret': secret }, secret), extra ? h('p', {}, extra) : null);
}

async function edit(el, id, query, shown) {
  const [w, { templates }] = await Promise.all([id ? get(`v1/webhooks/${enc(id)}`) : null, get('v1/templates').catch(() => ({ templates: [] }))]);
  const headers = (w?.headers || []).map(x => ({ ...x }));
  const name = input({ value: w?.name || '' });
  const url = input({ type: 'url', value: w?.url || '', placeholder: 'https://hooks.example.com/crm' });
  const method = select(['POST', 'PUT'], w?.method || 'POST');
  const authType = select([['none', 'None'], ['basic', 'Basic authentication']], w?.auth?.type || 'none');
  const user = input({ value: w?.auth?.username || '', autocomplete: 'off' });
  const pass = input({ type: 'password', autocomplete: 'new-password', placeholder: w?.auth?.type === 'basic' ? 'unchanged' : '' });
  const basic = h('div', { class: 'grid2' }, field('Username', user, { path: 'auth.username' }),
    field('Password', pass, { path: 'auth.password', help: w?.auth?.type === 'basic' ? 'Leave empty to keep the current password.' : null }));
  const showBasic = () => { basic.hidden = authType.value !== 'basic'; };
  authType.addEventListener('change', showBasic);
  showBasic();
  const codes = input({ value: (w?.successCodes || []).join(', '), placeholder: '200, 201, 202, 203, 204' });
  const policy = select(POLICIES, w?.retryPolicy || 'exponential');
  const timeout = input({ type: 'number', min: 1, max: 30000, value: w?.timeoutMs ?? '', placeholder: '15000' });
  const template = select([['', 'None: the event as JSON'], ...templates.map(t => [t.id, `${t.name} (${t.type})`])], w?.templateId || '');
  const headRows = rowsEditor(headers, (x, i) => h('div', { class: 'item', 'data-path': `headers[${i}]` },
    field([h('span', { class: 'sr' }, `Header ${i + 1} `), 'Name'], input({ value: x.name, placeholder: 'X-Request-Id', oninput: e => { x.name = e.target.value; } })),
    field([h('span', { class: 'sr' }, `Header ${i + 1} `), 'Value'], input({ value: x.value, placeholder: '{id}', oninput: e => { x.value = e.target.value; } })),
    h('div', { class: 'item-error-slot item-error' })),
  () => ({ name: '', value: '' }), { addLabel: 'Add header', path: 'headers', legend: 'Headers', item: 'header', help: 'A value {id} becomes a fresh id on every request. Values other than plain headers are shown masked after saving.' });

  const num = v => (/^\d+$/.test(v) ? Number(v) : v);
  const body = () => {
    const b = { name: name.value, url: url.value, method: method.value, headers: headers.filter(x => x.name || x.value),
      successCodes: codes.value.split(/[\s,]+/).filter(Boolean).map(num), retryPolicy: policy.value };
    b.auth = authType.value === 'basic' ? { type: 'basic', username: user.value, ...(pass.value ? { password: pass.value } : {}) } : { type: 'none' };
    if (timeout.value !== '') b.timeoutMs = num(timeout.value);
    if (template.value) b.templateId = template.value;
    if (!b.name.trim()) delete b.name;
    return b;
  };
  const top = h('div', {}, shown);
  const form = h('form', { novalidate: true, 'aria-label': 'Webhook', onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    const btn = e.submitter;
    if (btn) btn.disabled = true;
    try {
      const r = await api(id ? 'PUT' : 'POST', id ? `v1/webhooks/${enc(id)}` : 'v1/webhooks', body());
      if (!id) {
        // The secret is in this answer only: stay on the page (no re-route) and show it.
        history.replaceState(null, '', `#/webhooks/${enc(r.id)}`);
        return edit(el, r.id, query, secretBox('Webhook created. Its signing secret:', r.signingSecret));
      }
      top.replaceChildren(h('p', { class: 'notice', role: 'status' }, 'Webhook saved.'));
    } catch (err) {
      showError(form, err, { fallback: top });
    } finally { if (btn) btn.disabled = false; }
  } },
  top,
  h('fieldset', {}, h('legend', {}, 'Endpoint'),
    field('Name', name, { path: 'name', help: 'Optional; the URL when left empty.' }),
    field('URL', url, { path: 'url' }),
    h('div', { class: 'grid2' }, field('HTTP method', method, { path: 'method' }), field('Timeout (ms)', timeout, { path: 'timeoutMs', help: '1 to 30000; default 15000.' }))),
  headRows,
  h('fieldset', {}, h('legend', {}, 'Authentication'), field('Type', authType, { path: 'auth.type' }), basic),
  h('fieldset', {}, h('legend', {}, 'Delivery'),
    field('Success response codes', codes, { path: 'successCodes', help: 'Comma-separated, e.g. 200, 201, 202, 203, 204. Empty: any 2xx.' }),
    field('Retry policy', policy, { path: 'retryPolicy' }),
    field('Body template', template, { path: 'templateId', help: 'A template of the Templates page renders the body instead of the event JSON.' })),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, id ? 'Save' : 'Create webhook'),
    id ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!await confirmDialog('Delete this webhook?', `Triggers and connections that send to "${w.name}" will fail visibly in the event log.`, 'Delete')) return;
      try { await api('DELETE', `v1/webhooks/${enc(id)}`); location.hash = '#/webhooks'; } catch (err) { showError(form, err, { fallback: top }); }
    } }, 'Delete') : null));

  clear(el, head(w ? w.name : 'New webhook', link('#/webhooks', 'All webhooks')), form, w ? manage(w) : null);
  if (shown) {
    window.scrollTo(0, 0);
    shown.tabIndex = -1;
    shown.focus();
  } else name.focus();
}

// Secret and test event, for a saved webhook.
function manage(w) {
  const out = h('div', { 'aria-live': 'polite' });
  const secret = h('code', { class: 'secret', id: 'masked-secret' }, w.signingSecret || '—');
  return h('section', { 'aria-labelledby': 'manage-h' },
    h('h2', { id: 'manage-h' }, 'Signing secret and tests'),
    h('div', { class: 'card' },
      h('p', {}, 'Signing secret: ', secret),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: async () => {
          const ok = await confirmDialog('Rotate the signing secret?', 'A new secret signs from now on. The current one keeps signing for 24 hours, so receivers can switch without rejecting anything.', 'Rotate secret');
          if (!ok) return;
          try {
            const r = await api('POST', `v1/webhooks/${enc(w.id)}/rotate-secret`);
            secret.textContent = `${r.signingSecret.slice(0, 10)}…`;
            clear(out, secretBox('Secret rotated. The new signing secret:', r.signingSecret, `The previous secret signs until ${when(r.previousSecretExpiresAt)}.`));
          } catch (err) { clear(out, h('div', { class: 'form-error', role: 'alert' }, `${err.error} — ${err.detail}`)); }
        } }, 'Rotate secret'),
        h('button', { type: 'button', onclick: async () => {
          try {
            const r = await api('POST', `v1/webhooks/${enc(w.id)}/test`);
            clear(out, h('p', { class: 'notice', role: 'status', id: 'test-sent' }, 'Test event queued as delivery ',
              link(`#/log/${enc(r.deliveryId)}`, r.deliveryId), '. It is sent like any delivery and shows in the event log.'));
            toast('Test event queued');
          } catch (err) { clear(out, h('div', { class: 'form-error', role: 'alert' }, `${err.error} — ${err.detail}`)); }
        } }, 'Send test event'),
        link(`#/log?webhookId=${enc(w.id)}`, 'Event log of this webhook', 'button'))),
    out);
}
