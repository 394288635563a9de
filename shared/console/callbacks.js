// Callback notifications, laid out as the seed's connection tiles: one per notification kind,
// each with its connections (a webhook or a Twilio SMS sender) and an enable switch; the call
// targets; and a callback's state and reminders (GET /v1/callbacks/{id}).
import {
  h, clear, api, get, field, input, select, head, link, table, empty, toast, showError, clearErrors,
  confirmDialog, when, badge,
} from './ui.js';

const enc = encodeURIComponent;
const KINDS = [
  ['confirmation', 'Confirmation', 'Sent when a callback is registered (ASAP and scheduled), if it is still pending.'],
  ['reminder', 'Reminder', 'Sent 15 minutes before a scheduled callback, if it was scheduled more than 15 minutes ahead and is still pending.'],
  ['final_attempt', 'Final attempt', 'Sent when a callback ends Abandoned, Failure, Unavailable or Unknown.'],
  ['success', 'Success', 'Sent when a callback ends with the outcome Success.'],
  ['chose_messaging', 'Chose messaging', 'Sent when the customer chooses a message rather than a callback.'],
  ['asap_reminder', 'ASAP reminder', 'Sent 10 minutes before the expected time, when the wait is 20 to 60 minutes and the call target has asap_reminder_notification_enabled.'],
];

export async function render(el, id) {
  const [{ connections }, { webhooks }, { smsSenders }, { callTargets }] = await Promise.all([
    get('v1/connections'), get('v1/webhooks'), get('v1/sms-senders'), get('v1/call-targets')]);
  const wname = Object.fromEntries(webhooks.map(w => [w.id, w.name]));
  const sname = Object.fromEntries(smsSenders.map(s => [s.id, s.name]));
  const lookup = h('div', { 'aria-live': 'polite' });
  clear(el, head('Callback notifications'),
    h('p', { class: 'muted' }, 'Each tile is one notification. Enable it by connecting it to a webhook or to your Twilio account; the texts come from the call target.'),
    h('div', { class: 'tiles' }, KINDS.map(k => tile(k, connections.filter(c => c.kind === k[0]), { webhooks, smsSenders, wname, sname }))),
    h('h2', {}, 'Call targets'),
    callTargets.length
      ? table(['Id', 'Name', 'Handle', 'ASAP reminder'], callTargets.map(c => h('tr', {},
        h('td', {}, link(`#/call-targets/${enc(c.id)}`, c.id)), h('td', { class: 'name' }, c.name), h('td', {}, c.handle), h('td', {}, c.asapReminderEnabled ? 'on' : 'off'))))
      : empty('No call targets yet: notifications need one for their texts and From number.'),
    h('div', { class: 'actions' }, link('#/call-targets/new', 'New call target', 'button')),
    h('h2', {}, 'A callback\'s state'),
    lookupForm(lookup, id), lookup);
  if (id) await show(lookup, id);
}

function tile([kind, title, about], conns, ctx) {
  const on = conns.some(c => c.enabled);
  const area = h('div');
  const box = h('section', { class: `tile${on ? ' on' : ''}`, 'data-kind': kind, 'aria-labelledby': `tile-${kind}` });
  box.append(
    h('h3', { id: `tile-${kind}` }, title, ' ', h('span', { class: `badge ${on ? 'succeeded' : 'pending'}` }, on ? 'enabled' : 'not enabled')),
    h('p', { class: 'muted small' }, about),
    ...conns.map(c => connection(c, title, ctx, box)),
    area,
    h('button', { type: 'button', class: conns.length ? '' : 'primary', onclick: e => {
      e.target.hidden = true;
      clear(area, connectForm(kind, title, ctx, () => { e.target.hidden = false; clear(area); }));
      area.querySelector('select')?.focus();
    } }, conns.length ? 'Add a connection' : 'Enable'));
  return box;
}

function connection(c, title, ctx, box) {
  const to = c.channel === 'webhook' ? `Webhook: ${ctx.wname[c.webhookId] || c.url || c.webhookId}` : `Twilio: ${ctx.sname[c.smsSenderId] || c.smsSenderId}`;
  const toggle = h('input', { type: 'checkbox', checked: c.enabled, 'aria-label': `${title} enabled (${c.name})`, onchange: async () => {
    toggle.disabled = true;
    const bind = c.channel === 'webhook' ? { webhookId: c.webhookId } : { smsSenderId: c.smsSenderId };
    try {
      const r = await api('PUT', `v1/connections/${enc(c.id)}`, { kind: c.kind, channel: c.channel, name: c.name, enabled: toggle.checked, ...bind });
      c.enabled = r.enabled;
      toast(`${title}: ${c.enabled ? 'enabled' : 'disabled'}`);
      const any = box.querySelectorAll('.conn input[type=checkbox]:checked').length > 0;
      box.classList.toggle('on', any);
      const b = box.querySelector('h3 .badge');
      b.className = `badge ${any ? 'succeeded' : 'pending'}`;
      b.textContent = any ? 'enabled' : 'not enabled';
    } catch (err) {
      toggle.checked = c.enabled;
      toast(`Not changed: ${err.error} — ${err.detail}`);
    } finally { toggle.disabled = false; }
  } });
  return h('div', { class: 'conn', 'data-connection': c.id },
    h('div', { class: 'name' }, h('div', {}, c.name), h('div', { class: 'muted small' }, to)),
    h('div', { class: 'row' },
      h('label', { class: 'toggle' }, toggle, h('span', {}, 'Enabled')),
      h('button', { type: 'button', class: 'link', onclick: async () => {
        if (!await confirmDialog('Delete this connection?', `"${c.name}" stops sending ${title.toLowerCase()} notifications. Its destination stays.`, 'Delete')) return;
        try { await api('DELETE', `v1/connections/${enc(c.id)}`); location.reload(); } catch (err) { toast(`${err.error} — ${err.detail}`); }
      } }, 'Delete')));
}

// A new connection: an existing destination, or one defined here (the seed's inline forms).
function connectForm(kind, title, ctx, cancel) {
  const channel = select([['webhook', 'Webhook'], ['twilio', 'SMS via your Twilio account']], 'webhook');
  const hook = select([['', 'A new webhook with this URL'], ...ctx.webhooks.map(w => [w.id, w.name])], '');
  const url = input({ type: 'url', placeholder: 'https://crm.example.com/notify' });
  const auth = select([['none', 'No authentication'], ['basic', 'Basic authentication']], 'none');
  const user = input();
  const pass = input({ type: 'password', autocomplete: 'new-password' });
  const headers = h('textarea', { placeholder: 'X-Request-Id={id}' });
  const sender = select([['', 'A new SMS sender with this account'], ...ctx.smsSenders.map(s => [s.id, s.name])], '');
  const sid = input({ placeholder: 'AC…' });
  const token = input({ type: 'password', autocomplete: 'new-password' });
  const from = input({ placeholder: '+18505554321' });
  const name = input({ placeholder: `External Notification - ${title}` });
  const basic = h('div', {}, field('Username', user, { path: 'auth.username' }), field('Password', pass, { path: 'auth.password' }));
  const inlineHook = h('div', {}, field('URL', url, { path: 'url' }), field('Authentication', auth, { path: 'auth.type' }), basic,
    field('Headers', headers, { path: 'headers', help: 'key=value, one per line; {id} becomes a fresh id per request.' }));
  const web = h('div', {}, field('Send to', hook, { path: 'webhookId' }), inlineHook);
  const inlineSms = h('div', {}, field('Account SID', sid, { path: 'accountSid' }), field('Auth token', token, { path: 'authToken' }), field('From number', from, { path: 'from' }));
  const sms = h('div', {}, field('SMS sender', sender, { path: 'smsSenderId' }), inlineSms);
  const sync = () => {
    web.hidden = channel.value !== 'webhook';
    sms.hidden = channel.value !== 'twilio';
    inlineHook.hidden = !!hook.value;
    inlineSms.hidden = !!sender.value;
    basic.hidden = auth.value !== 'basic';
  };
  [channel, hook, auth, sender].forEach(s => s.addEventListener('change', sync));
  sync();
  const body = () => {
    const b = { kind, channel: channel.value };
    if (name.value.trim()) b.name = name.value.trim();
    if (channel.value === 'webhook') {
      if (hook.value) b.webhookId = hook.value;
      else {
        b.url = url.value;
        b.auth = auth.value === 'basic' ? { type: 'basic', username: user.value, password: pass.value } : { type: 'none' };
        if (headers.value.trim()) b.headers = headers.value;
      }
    } else if (sender.value) b.smsSenderId = sender.value;
    else Object.assign(b, { accountSid: sid.value, authToken: token.value, ...(from.value ? { from: from.value } : {}) });
    return b;
  };
  const form = h('form', { novalidate: true, 'aria-label': `Connect ${title}`, onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    try {
      await api('POST', 'v1/connections', body());
      toast(`${title} enabled`);
      location.reload();
    } catch (err) { showError(form, err); }
  } },
  field('Channel', channel, { path: 'channel' }), web, sms, field('Name', name, { path: 'name', help: 'The envelope\'s webhookName.' }),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create'), h('button', { type: 'button', onclick: cancel }, 'Cancel')));
  return form;
}

function lookupForm(out, id) {
  const cb = input({ value: id || '', placeholder: 'cb-20241016-0001' });
  return h('form', { novalidate: true, class: 'row', 'aria-label': 'Find a callback', onsubmit: e => {
    e.preventDefault();
    if (cb.value.trim()) location.hash = `#/callbacks/${enc(cb.value.trim())}`;
  } }, field('Callback id', cb, { path: 'callbackId' }), h('button', { type: 'submit' }, 'Show'));
}

async function show(out, id) {
  clear(out, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  let c;
  try { c = await get(`v1/callbacks/${enc(id)}`); } catch (err) {
    return clear(out, err.status === 404 ? empty(`No callback ${id}: Ringhook learns callbacks from their callback.* events.`) : h('div', { class: 'error-state', role: 'alert' }, `${err.error} — ${err.detail}`));
  }
  const facts = [['State', badge(c.state)], ['Type', c.type || '—'], ['Call target', c.callTargetId || '—'], ['Customer', c.customerNumber || '—'],
    ['Callback time', when(c.callbackTime)], ['Registered', when(c.registeredAt)], ['Outcome', c.outcome || '—']];
  clear(out, h('div', { class: 'card', 'data-callback': c.callbackId },
    h('h3', {}, `Callback ${c.callbackId}`),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'History'),
    table(['State', 'At', 'Event', 'Reason'], (c.history || []).map(x => h('tr', {}, h('td', {}, x.state), h('td', {}, when(x.at)), h('td', {}, x.eventId), h('td', {}, x.reason || '')))),
    h('h3', {}, 'Reminders'),
    c.reminders.length
      ? table(['Kind', 'Due', 'Status', 'Reason', 'Deliveries'], c.reminders.map(r => h('tr', {}, h('td', {}, r.kind), h('td', {}, when(r.dueAt)), h('td', {}, r.status), h('td', {}, r.reason || ''),
        h('td', {}, (r.deliveryIds || []).map(d => h('div', {}, link(`#/log/${enc(d)}`, d)))))))
      : h('p', { class: 'muted' }, 'No reminders.')));
}
