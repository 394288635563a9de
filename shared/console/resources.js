// Every other resource of the API, from one description each: a list and a create/edit form
// whose fields are the resource's request fields. Templates also show the token catalogue and
// a preview.
import {
  h, clear, api, get, field, input, select, head, link, table, empty, showError, clearErrors,
  confirmDialog, json, parseJson, ApiError, rowsEditor,
} from './ui.js';

const enc = encodeURIComponent;
const list = (v, key) => (v && v[key]) || [];
const locationRef = { name: 'locationId', label: 'Location', type: 'ref', ref: ['v1/locations', 'locations'] };
const uses = { name: 'webhooks', label: 'Webhooks', type: 'uses', help: 'Which webhooks this sends, and whether at the beginning or the end of the call.' };

export const PAGES = [
  { key: 'templates', title: 'Templates', path: 'v1/templates', list: 'templates', what: 'template',
    intro: 'Body templates for webhooks: your receiver\'s JSON or XML with %token% placeholders, or an example document whose fields you map to tokens.',
    columns: [['Name', t => t.name], ['Type', t => t.type], ['Group', t => t.group], ['Tokens', t => (t.tokens || []).join(', ')]],
    fields: [
      { name: 'name', label: 'Template name' },
      { name: 'group', label: 'Template group', help: '"tenant" (every location, the default) or a location id.' },
      { name: 'type', label: 'Template type', type: 'select', options: [['json', 'JSON'], ['xml', 'XML']] },
      { name: 'format', label: 'Template format', type: 'textarea', help: 'Must be valid JSON or XML. Put %token% where a data point goes, or map the example\'s fields below.' },
      { name: 'mapping', label: 'Field mapping', type: 'json', help: 'Optional: {"first": "ani_first_name"} — an extracted field to a token.' },
    ],
    extra: templateExtras },
  { key: 'sms-senders', title: 'SMS senders', path: 'v1/sms-senders', list: 'smsSenders', what: 'SMS sender',
    intro: 'Twilio accounts that SMS notifications are sent through. The auth token is write-only.',
    columns: [['Name', s => s.name], ['Account SID', s => s.accountSid], ['From', s => s.from || '—']],
    fields: [
      { name: 'name', label: 'Name' },
      { name: 'accountSid', label: 'Account SID', help: 'AC and 32 hex digits.' },
      { name: 'authToken', label: 'Auth token', type: 'password', help: 'Leave empty to keep the current token.' },
      { name: 'from', label: 'Default From number', help: 'E.164, e.g. +18505554321; a call target\'s handle takes precedence.' },
    ] },
  { key: 'call-targets', group: 'callbacks', nav: false, title: 'Call targets', path: 'v1/call-targets', list: 'callTargets', what: 'call target',
    intro: 'Who calls back: the handle is the From number; each text is a notification\'s message, with {placeholders}.',
    columns: [['Id', c => c.id], ['Name', c => c.name], ['Handle', c => c.handle], ['ASAP reminder', c => (c.asapReminderEnabled ? 'on' : 'off')]],
    fields: [
      { name: 'id', label: 'Id', help: 'Your own id (e.g. 6281); generated when left empty.', create: true },
      { name: 'name', label: 'Name' },
      { name: 'handle', label: 'Handle (From number)' },
      ...['confirmation', 'reminder', 'finalAttempt', 'success', 'choseMessaging'].map(k => ({ name: `messages.${k}`, label: `${k.replace(/[A-Z]/g, c => ` ${c.toLowerCase()}`).replace(/^./, c => c.toUpperCase())} message`, type: 'textarea' })),
      { name: 'replacements', label: 'Replacements', type: 'kv', help: 'name=value lines: {name} in a text becomes the value.' },
      { name: 'metadata', label: 'Metadata', type: 'json', help: '[{"key", "value", "type"}] — asap_reminder_notification_enabled / _text turn on the ASAP reminder.' },
    ],
    extra: placeholders },
  { key: 'locations', group: 'locations', navTitle: 'Call tracking', title: 'Locations', path: 'v1/locations', list: 'locations', what: 'location',
    intro: 'Where calls are tracked; a location\'s fields are template tokens (%location_name%, …).',
    columns: [['Name', l => l.name], ['City', l => l.city || '—'], ['Account', l => l.accountId || '—']],
    fields: ['name', 'addressLine1', 'addressLine2', 'city', 'zip', 'state', 'accountId', 'clientLocationId', 'siteId', 'domainId']
      .map(n => ({ name: n, label: n.replace(/([A-Z0-9]+)/g, ' $1').replace(/^./, c => c.toUpperCase()).replace(/ (\w)/g, (m, c) => ` ${c.toLowerCase()}`) })) },
  { key: 'campaigns', group: 'locations', nav: false, title: 'Campaigns', path: 'v1/campaigns', list: 'campaigns', what: 'campaign',
    intro: 'Offline marketing campaigns: tracking numbers, tags, and the webhooks their calls send.',
    columns: [['Name', c => c.name], ['Location', c => c.locationId], ['Tracking numbers', c => c.trackingNumbers.join(', ')], ['Webhooks', c => String(c.webhooks.length)]],
    fields: [{ name: 'name', label: 'Name' }, locationRef,
      { name: 'trackingNumbers', label: 'Tracking numbers', type: 'lines', help: 'One per line.' },
      { name: 'tags', label: 'Tags', type: 'json', help: '{"Region": "south"}' }, uses] },
  { key: 'dni-campaigns', group: 'locations', nav: false, title: 'DNI campaigns', path: 'v1/dni-campaigns', list: 'dniCampaigns', what: 'DNI campaign',
    intro: 'Digital campaigns: the domains where dynamic number insertion runs, and their webhooks.',
    columns: [['Name', c => c.name], ['Location', c => c.locationId], ['Domains', c => c.domains.join(', ')], ['Webhooks', c => String(c.webhooks.length)]],
    fields: [{ name: 'name', label: 'Name' }, locationRef, { name: 'domains', label: 'Domains', type: 'lines', help: 'One per line.' }, uses] },
  { key: 'call-treatments', group: 'locations', nav: false, title: 'Call treatments', path: 'v1/call-treatments', list: 'callTreatments', what: 'call treatment',
    intro: 'IVR options (1 = Sales, …); a webhook can be sent for the callers who choose an option.',
    columns: [['Name', c => c.name], ['Location', c => c.locationId], ['Options', c => c.options.map(o => `${o.key} ${o.name}`).join(', ')]],
    fields: [{ name: 'name', label: 'Name' }, locationRef,
      { name: 'options', label: 'Options', type: 'json', help: '[{"key": "1", "name": "Sales", "webhooks": [{"webhookId": "wh_…", "sendAt": "end"}]}]' }] },
];

export function render(spec, el, id) {
  return id ? edit(spec, el, id === 'new' ? null : id) : index(spec, el);
}

// Call tracking's four resources share one nav entry and these tabs.
function tabs(spec) {
  if (spec.group !== 'locations') return null;
  return h('nav', { class: 'subnav', 'aria-label': 'Call tracking' }, PAGES.filter(p => p.group === 'locations').map(p =>
    h('a', { href: `#/${p.key}`, 'aria-current': p.key === spec.key ? 'page' : null }, p.title)));
}

async function index(spec, el) {
  const items = list(await get(spec.path), spec.list);
  const rows = items.map(it => h('tr', { 'data-id': it.id },
    spec.columns.map(([, f], i) => h('td', { class: 'name' }, i === 0 ? link(`#/${spec.key}/${enc(it.id)}`, f(it)) : f(it)))));
  clear(el, tabs(spec), head(spec.title, link(`#/${spec.key}/new`, `New ${spec.what}`, 'button primary')),
    h('p', { class: 'muted' }, spec.intro),
    items.length ? table(spec.columns.map(c => c[0]), rows) : empty(`No ${spec.what}s yet.`, link(`#/${spec.key}/new`, `Create a ${spec.what}`, 'button primary')),
    spec.extra ? await spec.extra() : null);
}

const at = (o, path) => path.split('.').reduce((v, k) => (v == null ? v : v[k]), o);
function put(o, path, v) {
  const ks = path.split('.');
  const last = ks.pop();
  ks.reduce((x, k) => (x[k] ??= {}), o)[last] = v;
}

async function control(f, value, item) {
  switch (f.type) {
    case 'select': return { el: select(f.options, value ?? f.options[0][0]), read: e => e.value };
    case 'ref': {
      const items = list(await get(f.ref[0]), f.ref[1]);
      return { el: select([['', '— choose —'], ...items.map(x => [x.id, x.name])], value ?? ''), read: e => e.value };
    }
    case 'password': return { el: input({ type: 'password', autocomplete: 'new-password', placeholder: item ? 'unchanged' : '' }), read: e => e.value || undefined };
    case 'textarea': return { el: h('textarea', { value: value ?? '' }), read: e => e.value || undefined };
    case 'lines': return { el: h('textarea', { value: (value || []).join('\n') }), read: e => e.value.split('\n').map(s => s.trim()).filter(Boolean) };
    case 'kv': return { el: h('textarea', { value: Object.entries(value || {}).map(([k, v]) => `${k}=${v}`).join('\n') }),
      read: e => Object.fromEntries(e.value.split('\n').filter(l => l.trim()).map(l => { const i = l.indexOf('='); return i < 0 ? [l.trim(), ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()]; })) };
    case 'json': return { el: h('textarea', { value: value == null ? '' : json(value), spellcheck: 'false' }), read: e => parseJson(e.value, f.name) };
    case 'uses': {
      const { webhooks } = await get('v1/webhooks');
      const rows = (value || []).map(u => ({ ...u }));
      const ed = rowsEditor(rows, (u, i) => h('div', { class: 'item', 'data-path': `webhooks[${i}]` },
        field([h('span', { class: 'sr' }, `Webhook ${i + 1} `), 'Webhook'], select([['', '— choose —'], ...webhooks.map(w => [w.id, w.name])], u.webhookId, { onchange: e => { u.webhookId = e.target.value; } }), { path: `webhooks[${i}].webhookId` }),
        field([h('span', { class: 'sr' }, `Webhook ${i + 1} `), 'Send at'], select([['begin', 'Call begins'], ['end', 'Call ends']], u.sendAt || 'end', { onchange: e => { u.sendAt = e.target.value; } }), { path: `webhooks[${i}].sendAt`, cls: 'field narrow' }),
        h('div', { class: 'item-error-slot item-error' })),
      () => ({ webhookId: webhooks[0]?.id || '', sendAt: 'end' }), { addLabel: 'Add webhook', path: 'webhooks', legend: f.label, item: 'webhook', help: f.help });
      return { el: ed, read: () => rows.map(u => ({ webhookId: u.webhookId, sendAt: u.sendAt || 'end' })), fieldset: true };
    }
    default: return { el: input({ value: value ?? '' }), read: e => e.value || undefined };
  }
}

async function edit(spec, el, id) {
  const item = id ? await get(`${spec.path}/${enc(id)}`) : null;
  const controls = [];
  for (const f of spec.fields) {
    if (f.create && item) continue;
    controls.push([f, await control(f, item ? at(item, f.name) : undefined, item)]);
  }
  const top = h('div');
  const body = () => {
    const b = {};
    for (const [f, c] of controls) {
      const v = c.read(c.el);
      if (v !== undefined && v !== '') put(b, f.name, v);
    }
    return b;
  };
  const form = h('form', { novalidate: true, 'aria-label': spec.title, onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    try {
      const r = await api(item ? 'PUT' : 'POST', item ? `${spec.path}/${enc(id)}` : spec.path, body());
      if (!item) { location.hash = `#/${spec.key}/${enc(r.id)}`; return; }
      top.replaceChildren(h('p', { class: 'notice', role: 'status' }, `The ${spec.what} has been saved.`));
    } catch (err) {
      showError(form, err instanceof ApiError ? err : new ApiError(0, 'error', err.message), { fallback: top });
    }
  } }, top,
  h('fieldset', {}, h('legend', {}, spec.title.replace(/s$/, '')),
    controls.map(([f, c]) => (c.fieldset ? c.el : field(f.label, c.el, { path: f.name, help: f.help })))),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, item ? 'Save' : `Create ${spec.what}`),
    item ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!await confirmDialog(`Delete this ${spec.what}?`, `"${item.name || item.id}" is deleted for good.`, 'Delete')) return;
      try { await api('DELETE', `${spec.path}/${enc(id)}`); location.hash = `#/${spec.key}`; } catch (err) { showError(form, err, { fallback: top }); }
    } }, 'Delete') : null));
  clear(el, tabs(spec), head(item ? (item.name || item.id) : `New ${spec.what}`, link(`#/${spec.key}`, `All ${spec.title.toLowerCase()}`)),
    form, item && spec.extra ? await spec.extra(item) : null);
}

// Templates: the token catalogue (public), and a preview of a saved template.
async function templateExtras(t) {
  const out = [];
  if (t) {
    const pre = h('pre', { 'aria-label': 'Preview', hidden: true }, '');
    out.push(h('h2', {}, 'Preview'), h('p', { class: 'muted' }, 'Rendered with the catalogue\'s example values.'),
      h('button', { type: 'button', onclick: async () => {
        try { pre.textContent = (await api('POST', `v1/templates/${enc(t.id)}/preview`)).body; } catch (err) { pre.textContent = `${err.error} — ${err.detail}`; }
        pre.hidden = false;
      } }, 'Preview'), pre);
  }
  const { categories } = await get('v1/templates/tokens');
  out.push(h('h2', {}, 'Token catalogue'), h('p', { class: 'muted' }, 'Data points a template can place, by category.'),
    categories.map(c => h('details', { class: 'attempt' }, h('summary', {}, h('strong', {}, c.category), h('span', { class: 'muted' }, `${c.tokens.length} tokens`)),
      h('div', {}, table(['Token', 'Description', 'Example'], c.tokens.map(x => h('tr', {},
        h('td', {}, h('code', {}, x.token)), h('td', {}, x.description), h('td', { class: 'name' }, x.example == null ? '' : String(x.example)))))))));
  return out;
}

async function placeholders() {
  const { placeholders: p } = await get('v1/call-targets');
  if (!p) return null;
  return [h('h2', {}, 'Placeholders'), table(['Placeholder', 'Becomes'], Object.entries(p).map(([k, v]) => h('tr', {}, h('td', {}, h('code', {}, k)), h('td', {}, String(v)))))];
}
