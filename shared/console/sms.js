// SMS messaging (docs/sms.md): the SMS log, flows, contacts and the account's SMS settings.
// The message settings and sends (messaging.js) share this module's tabs and helpers.
import { h, clear, api, get, qs, field, input, select, head, link, table, empty, toast, showError, clearErrors, confirmDialog, rowsEditor, when } from './ui.js';

export const enc = encodeURIComponent;
const STATUSES = ['PENDING', 'QUEUED', 'SENT', 'DELIVERED', 'READ', 'UNDELIVERED', 'FAILED', 'NOT_SENT', 'REJECTED'];
// Not a number: sent as typed, for the API's error.
export const num = v => (v.trim() !== '' && !isNaN(v) ? Number(v) : v);
export const status = s => h('span', { class: `badge ${/^(DELIVERED|READ|active|resumed)$/.test(s) ? 'succeeded' : /FAIL|UNDEL|NOT_|REJ|unsub|suspended|deactivated/.test(s) ? 'failed' : 'pending'}` }, s);
const cost = c => `${c.amount} ${c.currency.currencyName}`;
export const facts = rows => h('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
export const tabs = cur => h('nav', { class: 'subnav', 'aria-label': 'SMS' }, [['sms', 'SMS log'], ['send', 'Send'], ['flows', 'Flows'], ['contacts', 'Contacts'],
  ['sms-settings', 'Settings'], ['sms-messaging', 'Message settings']]
  .map(([k, t]) => h('a', { href: `#/${k}`, 'aria-current': k === cur ? 'page' : null }, t)));
export const submit = (text, ...more) => h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, text), more);

export function render(page, el, id, q) {
  if (page === 'settings') return settings(el);
  if (page === 'flows') return id ? flow(el, id === 'new' ? null : id) : flows(el);
  if (page === 'contacts') return contacts(el, q);
  return id ? record(el, id) : log(el, q);
}

// Submit runs `send`; the text it returns is shown on top, an API error at its field.
export function form(label, send, ...kids) {
  const top = h('div');
  const f = h('form', { novalidate: true, 'aria-label': label, onsubmit: async e => {
    e.preventDefault();
    clearErrors(f);
    try {
      const msg = await send();
      if (msg) top.replaceChildren(h('p', { class: 'notice', role: 'status' }, msg));
    } catch (err) { showError(f, err, { fallback: top }); }
  } }, top, kids);
  return f;
}

// -- The SMS log.
async function log(el, q) {
  const f = Object.fromEntries(['flowId', 'status', 'to'].map(k => [k, q.get(k) || '']));
  const [page, { flows: fs }] = await Promise.all([get(`v1/sms${qs({ ...f, limit: 25, cursor: q.get('cursor') })}`), get('v1/flows')]);
  const names = Object.fromEntries(fs.map(x => [x.id, `${x.id} · ${x.name}`]));
  const ctl = [['flowId', 'Flow', select([['', 'Any flow'], ...Object.entries(names)], f.flowId)],
    ['status', 'Status', select([['', 'Any status'], ...STATUSES], f.status)],
    ['to', 'To', input({ value: f.to, placeholder: '+919999999999' })]];
  const filters = h('form', { novalidate: true, class: 'card', 'aria-label': 'Filters', onsubmit: e => {
    e.preventDefault();
    location.hash = `#/sms${qs(Object.fromEntries(ctl.map(([k, , c]) => [k, c.value])))}`;
  } }, h('div', { class: 'grid3' }, ctl.map(([k, label, c]) => field(label, c, { path: k }))), submit('Apply filters'));
  const rows = page.sms.map(r => h('tr', { 'data-id': r.id },
    h('td', {}, link(`#/sms/${enc(r.id)}`, r.createdAt)), h('td', {}, r.to), h('td', { class: 'name' }, r.flowId == null ? link(`#/send/${enc(r.phononUuid)}`, 'Send') : names[r.flowId] || r.flowId),
    h('td', {}, status(r.deliveryStatus)), h('td', {}, r.segments), h('td', {}, cost(r.cost)), h('td', { class: 'name' }, r.text)));
  clear(el, tabs('sms'), head('SMS log'), filters,
    rows.length ? table(['Created', 'To', 'Flow or send', 'Status', 'Segments', 'Cost', 'Text'], rows)
      : empty(f.flowId || f.status || f.to ? 'No SMS match these filters.' : 'No SMS yet: flows and sends make them.'),
    page.nextCursor ? link(`#/sms${qs({ ...f, cursor: page.nextCursor })}`, 'Older', 'button') : null);
}

async function record(el, id) {
  const r = await get(`v1/sms/${enc(id)}`);
  const c = r.cost;
  const a = r.notify_on_delivery;
  const logged = d => link(`#/log/${enc(d)}`, d);
  clear(el, tabs('sms'), head(`SMS to ${r.to}`),
    h('div', { class: 'card', id: 'sms-record' }, facts([
      ['Status', status(r.deliveryStatus)], r.error && ['Error', r.error], r.errorCode && ['Error code', r.errorCode],
      ['To', r.to], ['From', r.from], ['Text', r.text], ['Length', r.length],
      ['Type', `${r.smsType}, nonEnglishChars ${r.nonEnglishChars}`],
      ['Segments', r.segments], ['Cost', `${cost(c)}: ${c.smsUnit} × ${c.serviceChargeType}, category ${c.serviceCategory}, currency ${c.currency.currencyID}`],
      ['Created', r.createdAt], ['Sent', r.sendTime], ['Final status', r.deliveryTime], ['MessageSid', r.messageSid],
      ...(r.flowId == null ? [['Send', link(`#/send/${enc(r.phononUuid)}`, r.phononUuid)]]
        : [['Flow', link(`#/flows/${r.flowId}`, r.flowId)], ['Call', r.phononUuid]]), ['Attempt', r.attemptDetail],
      ['Account', r.accountID], ['Event', r.eventId], ['Delivery', logged(r.deliveryId)], ['SMS id', r.id]])),
    h('h2', {}, 'The receiver\'s answer to the status webhook'),
    a ? h('div', { class: 'card', id: 'answer' }, facts([['Status', a.status ?? 'no answer'], ['At', a.at], a.error && ['Error', a.error],
      ['Delivery', logged(a.deliveryId)]]), h('pre', {}, a.body, a.truncated ? '\n(cut at 10 KB)' : ''))
      : empty('None yet: sent once the status is final, with notifyOnDelivery on.'));
}

// -- Flows.
async function flows(el) {
  const { flows: fs } = await get('v1/flows');
  clear(el, tabs('flows'), head('Flows', link('#/flows/new', 'New flow', 'button primary')),
    fs.length ? table(['Id', 'Name', 'SMS steps', 'Webhook'], fs.map(f => h('tr', { 'data-id': f.id },
      h('td', {}, link(`#/flows/${f.id}`, f.id)), h('td', { class: 'name' }, f.name), h('td', {}, f.smsSteps.length),
      h('td', {}, f.webhookEnabled ? 'on' : 'off'))))
      : empty('No flows yet.', link('#/flows/new', 'Create a flow', 'button primary')));
}

async function flow(el, id) {
  const f = id && await get(`v1/flows/${enc(id)}`);
  const steps = (f ? f.smsSteps : [{ to: 'callerNumber', text: '' }]).map(s => ({ from: '', ...s }));
  const fid = input({ inputmode: 'numeric' });
  const name = input({ value: f?.name || '' });
  const hook = h('input', { type: 'checkbox', checked: f?.webhookEnabled });
  const one = (s, i, k, label, c) => {
    c.addEventListener('input', () => { s[k] = c.value; });
    return field([h('span', { class: 'sr' }, `SMS step ${i + 1} `), label], c, { path: `smsSteps[${i}].${k}` });
  };
  const ed = rowsEditor(steps, (s, i) => h('div', { class: 'item', 'data-path': `smsSteps[${i}]` },
    one(s, i, 'to', 'To', input({ value: s.to })), one(s, i, 'from', 'From', input({ value: s.from })),
    one(s, i, 'text', 'Text', h('textarea', { value: s.text, rows: 2 })), h('div', { class: 'item-error-slot item-error' })),
  () => ({ to: 'callerNumber', from: '', text: '' }), { addLabel: 'Add SMS step', path: 'smsSteps', legend: 'SMS steps', item: 'SMS step',
    help: 'To: a number, or a field of the event such as callerNumber.' });
  const save = async () => {
    const b = { name: name.value, webhookEnabled: hook.checked, smsSteps: steps.map(s => ({ to: s.to, from: s.from.trim() ? s.from : undefined, text: s.text })) };
    if (!f && fid.value.trim()) b.id = num(fid.value);
    const r = await api(f ? 'PUT' : 'POST', f ? `v1/flows/${f.id}` : 'v1/flows', b);
    if (f) return 'Flow saved.';
    location.hash = `#/flows/${r.id}`;
  };
  const del = async e => {
    if (await confirmDialog('Delete this flow?', `"${f.name}" is deleted; its SMS records stay.`, 'Delete')) {
      await api('DELETE', `v1/flows/${f.id}`).then(() => { location.hash = '#/flows'; }, err => showError(e.target.form, err));
    }
  };
  clear(el, tabs('flows'), head(f ? `Flow ${f.id}: ${f.name}` : 'New flow'),
    form('Flow', save, h('fieldset', {}, h('legend', {}, 'Flow'),
      f ? null : field('Id', fid, { path: 'id', help: 'Empty: the next free one.' }),
      field('Name', name, { path: 'name' }),
      field('Webhook enabled', hook, { path: 'webhookEnabled', help: 'Webhooks to the default webhook.' })),
    ed, submit(f ? 'Save' : 'Create flow', f && h('button', { type: 'button', class: 'danger', onclick: del }, 'Delete'))));
  name.focus();
}

// -- Contacts.
async function contacts(el, q) {
  const { contacts: cs, next_cursor: next } = await get(`v1/contacts${qs({ cursor: q.get('cursor') })}`);
  const act = (c, text, run) => h('button', { type: 'button', 'aria-label': `${text} ${c.phone_number}`, onclick: async e => {
    e.target.disabled = true;
    try {
      toast(await run(`v1/contacts/${enc(c.phone_number)}`));
      await contacts(el, q);
    } catch (err) { e.target.disabled = false; toast(`Not changed: ${err.error} — ${err.detail}`); }
  } }, text);
  const rows = cs.map(c => {
    const to = c.status === 'unsubscribed' ? 'active' : 'unsubscribed';
    return h('tr', { 'data-id': c.phone_number }, h('td', {}, c.phone_number),
      h('td', { class: 'name' }, [c.first_name, c.last_name, c.email].filter(Boolean).join(' · ')),
      h('td', {}, status(c.status), c.unsubscribed_at ? h('div', { class: 'muted small' }, when(c.unsubscribed_at)) : null),
      h('td', {}, c.bounces), h('td', {}, h('div', { class: 'row' },
        act(c, to === 'active' ? 'Re-subscribe' : 'Unsubscribe', async p => (await api('PUT', p, { status: to }), `${c.phone_number}: ${to}`)),
        act(c, 'Delete', async p => (await confirmDialog('Delete this contact?', `${c.phone_number} is deleted.`, 'Delete') ? (await api('DELETE', p), 'Deleted') : '')))));
  });
  const ctl = ['phone_number', 'first_name', 'last_name', 'email'].map(k => [k, input()]);
  const add = async () => {
    await api('POST', 'v1/contacts', Object.fromEntries(ctl.filter(([, c]) => c.value.trim()).map(([k, c]) => [k, c.value])));
    await contacts(el, q);
  };
  clear(el, tabs('contacts'), head('Contacts'), h('p', { class: 'muted' }, 'An unsubscribed number is never sent an SMS. Carriers may suspend, deactivate, resume or transfer a number; bounces count unreachable-number errors since its last delivered SMS (the bounce webhook fires at the threshold of ', link('#/sms-messaging', 'Message settings'), ').'),
    rows.length ? table(['Phone number', 'Name and email', 'Status', 'Bounces', ''], rows) : empty('No contacts yet.'),
    next ? link(`#/contacts?cursor=${enc(next)}`, 'Next page', 'button') : null,
    h('h2', {}, 'Add a contact'), form('Contact', add, h('div', { class: 'grid2' },
      ctl.map(([k, c]) => field(k.replace('_', ' ').replace(/^./, x => x.toUpperCase()), c, { path: k }))),
    submit('Add contact')));
}

// -- The account's SMS settings.
const PRICING = [['currencyId', 'Currency id', 1], ['currencyName', 'Currency'], ['amountPerUnit', 'Amount', 1],
  ['serviceCategory', 'Service category'], ['serviceChargeType', 'Service charge type']];

async function settings(el) {
  const [a, { webhooks }, { smsSenders }] = await Promise.all([get('v1/account'), get('v1/webhooks'), get('v1/sms-senders')]);
  const tz = input({ value: a.timeZone });
  const acct = input({ value: a.accountId ?? '', inputmode: 'numeric' });
  const notify = h('input', { type: 'checkbox', checked: a.notifyOnDelivery });
  const hook = select([['', 'None'], ...webhooks.map(w => [w.id, w.name])], a.defaultWebhookId || '');
  const sender = select([['', 'None'], ...smsSenders.map(s => [s.id, s.name])], a.smsSenderId || '');
  const price = PRICING.map(([k, label, n]) => [k, label, n, input({ value: a.smsPricing[k] })]);
  const save = async () => {
    const r = await api('PUT', 'v1/account', {
      accountId: acct.value.trim() ? num(acct.value) : null, timeZone: tz.value, notifyOnDelivery: notify.checked,
      defaultWebhookId: hook.value || null, smsSenderId: sender.value || null,
      smsPricing: Object.fromEntries(price.map(([k, , n, c]) => [k, n ? num(c.value) : c.value])),
    });
    tz.value = r.timeZone;
    return 'SMS settings saved.';
  };
  clear(el, tabs('sms-settings'), head('SMS settings'),
    form('SMS settings', save,
      h('fieldset', {}, h('legend', {}, 'Account'),
        field('Time zone', tz, { path: 'timeZone', help: 'SMS times are shown in it: Asia/Kolkata, +05:30…' }),
        field('Account id', acct, { path: 'accountId', help: 'Empty: the tenant id.' }),
        field('Default webhook', hook, { path: 'defaultWebhookId', help: 'Where flows\' webhooks go.' }),
        field('Notify on delivery', notify, { path: 'notifyOnDelivery', help: 'Each SMS\'s final status too.' }),
        field('SMS sender (Twilio)', sender, { path: 'smsSenderId', help: 'Without one, no SMS is sent.' })),
      h('fieldset', {}, h('legend', {}, 'Price of one segment'),
        h('div', { class: 'grid3' }, price.map(([k, label, , c]) => field(label, c, { path: `smsPricing.${k}` })))),
      submit('Save settings')));
}
