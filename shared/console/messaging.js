// SMS webhooks (docs/sms.md, second half): the account's message settings — where each of the
// six webhooks goes, the bounce threshold, unknown-only, opt-in keywords, the inbound URLs to give
// Twilio — and sends to many recipients (POST /v1/messages), each reopened by id (#/send/<id>).
import { h, clear, api, get, field, input, select, head, link, table, empty, toast, when } from './ui.js';
import { enc, num, status, facts, tabs, form, submit } from './sms.js';

export function render(page, el, id) {
  if (page === 'settings') return settings(el);
  return id ? sent(el, id) : compose(el);
}

// -- Message settings.
const KINDS = [
  ['inbound', 'Inbound', 'Every message to your numbers (or only actual replies: below).'],
  ['unsubscribe', 'Unsubscribe', 'A contact opted out (STOP, UNSUBSCRIBE…).'],
  ['bounce', 'Bounce', 'A contact\'s bounces reached the threshold.'],
  ['deliveryReport', 'Delivery report', 'Every SMS of a send has a final status, or 24 hours passed.'],
  ['contactStatus', 'Contact status', 'A carrier suspended, deactivated, resumed or transferred a number.'],
  ['rejection', 'Rejection', 'Twilio refused a message, or it failed.'],
];

// One webhook type's destination: none, a webhook of /v1/webhooks, or a URL.
function destination([key, label, help], cur, hooks) {
  const path = `webhooks.${key}`;
  const sr = h('span', { class: 'sr' }, `${label}: `);
  const kind = select([['', 'None: not sent'], ['webhook', 'A webhook'], ['url', 'A URL']],
    cur?.webhookId != null ? 'webhook' : cur?.url != null ? 'url' : '');
  const gone = cur?.webhookId != null && !hooks.some(w => w.id === cur.webhookId);
  const hook = select([...hooks.map(w => [w.id, w.name || w.url]), ...(gone ? [[cur.webhookId, `${cur.webhookId} (no such webhook)`]] : []),
    ...(hooks.length || gone ? [] : [['', 'No webhooks yet']])], cur?.webhookId ?? null);
  const url = input({ type: 'url', value: cur?.url || '', placeholder: 'https://crm.example.com/sms' });
  const hookF = field([sr.cloneNode(true), 'Webhook'], hook, { path: `${path}.webhookId` });
  const urlF = field([sr.cloneNode(true), 'URL'], url, { path: `${path}.url`, help: 'POST JSON, signed with the account\'s signing secret.' });
  const show = () => { hookF.hidden = kind.value !== 'webhook'; urlF.hidden = kind.value !== 'url'; };
  kind.addEventListener('change', show);
  show();
  const el = h('fieldset', { 'data-kind': key }, h('legend', {}, label), h('p', { class: 'help' }, help),
    h('div', { class: 'grid2' }, field([sr, 'Sends to'], kind, { path }), hookF, urlF));
  el.value = () => (kind.value === 'webhook' ? { webhookId: hook.value } : kind.value === 'url' ? { url: url.value } : null);
  return el;
}

// Selects the text (for Ctrl+C) when the clipboard is not available.
function copy(code, what) {
  return h('button', { type: 'button', 'aria-label': `Copy ${what}`, onclick: async () => {
    try {
      await navigator.clipboard.writeText(code.textContent);
      toast('Copied.');
    } catch {
      const r = document.createRange();
      r.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      toast('Selected: press Ctrl+C to copy it.');
    }
  } }, 'Copy');
}

async function settings(el) {
  const [m, { webhooks }, { smsSenders }] = await Promise.all([get('v1/account/messaging'), get('v1/webhooks'), get('v1/sms-senders')]);
  const dests = KINDS.map(k => destination(k, m.webhooks[k[0]], webhooks));
  const threshold = input({ value: m.bounceThreshold, inputmode: 'numeric' });
  const unknown = h('input', { type: 'checkbox', checked: m.unknownMessagesOnly });
  const words = input({ value: m.optInKeywords.join(', ') });
  const changed = h('p', { class: 'muted small' }, m.updatedAt ? `Last changed ${when(m.updatedAt)}.` : 'The defaults: never changed.');
  const save = async () => {
    const r = await api('PUT', 'v1/account/messaging', {
      webhooks: Object.fromEntries(dests.map((d, i) => [KINDS[i][0], d.value()])),
      bounceThreshold: num(threshold.value), unknownMessagesOnly: unknown.checked,
      optInKeywords: words.value.split(',').map(w => w.trim()).filter(Boolean),
    });
    words.value = r.optInKeywords.join(', ');
    changed.textContent = `Last changed ${when(r.updatedAt)}.`;
    return 'Message settings saved.';
  };
  const names = Object.fromEntries(smsSenders.map(s => [s.id, s.name]));
  const urls = m.inboundUrls.map(u => {
    const code = h('code', { class: 'secret', 'data-url': u.url }, u.url);
    const who = names[u.smsSenderId] ? `${names[u.smsSenderId]} (${u.smsSenderId})` : u.smsSenderId;
    return h('div', { class: 'field', 'data-sender': u.smsSenderId }, h('div', { class: 'label' }, who),
      h('div', { class: 'row' }, code, copy(code, `the inbound URL of ${who}`)));
  });
  clear(el, tabs('sms-messaging'), head('Message settings'),
    h('p', { class: 'muted' }, 'Where each SMS webhook goes. A webhook brings its method, headers, auth, retry policy and secret; a URL is POSTed JSON with the default retry policy.'),
    form('Message settings', save, changed, dests,
      h('fieldset', {}, h('legend', {}, 'Rules'),
        h('div', { class: 'grid2' },
          field('Bounce threshold', threshold, { path: 'bounceThreshold', help: 'Bounces a contact has when the bounce webhook fires (1 to 100).' }),
          field('Opt-in keywords', words, { path: 'optInKeywords', help: 'Comma-separated; besides START, YES and UNSTOP.' })),
        field('Unknown messages only', unknown, { path: 'unknownMessagesOnly', help: 'The inbound webhook fires only for actual replies, not for opt-out, opt-in or help keywords.' })),
      submit('Save message settings')),
    h('h2', {}, 'Inbound URLs'),
    urls.length ? h('div', { class: 'card', id: 'inbound-urls' },
      h('p', {}, 'Paste into your Twilio number\'s "A message comes in" webhook (HTTP POST), one URL per SMS sender:'), urls)
      : empty('No SMS sender yet: each one gets its URL here.', link('#/sms-senders', 'Add an SMS sender', 'button primary')));
}

// -- Sends.
async function compose(el) {
  const a = await get('v1/account');
  const to = h('textarea', { rows: 4, placeholder: '+15551230001\n+15551230002' });
  const text = h('textarea', { rows: 3 });
  const from = input();
  const go = async () => {
    const r = await api('POST', 'v1/messages', { to: to.value.split(/[\n,;]/).map(n => n.trim()).filter(Boolean),
      text: text.value, from: from.value.trim() ? from.value.trim() : undefined });
    location.hash = `#/send/${enc(r.id)}`;
  };
  const id = input({ placeholder: 'snd_…' });
  clear(el, tabs('send'), head('Send a text'),
    h('p', { class: 'muted' }, 'One text to each number, through the account\'s Twilio sender; unsubscribed numbers are not sent to. Once every SMS has a final status (or after 24 hours) the delivery report webhook fires.'),
    a.smsSenderId ? null : h('p', { class: 'notice', role: 'status' }, 'The account has no Twilio sender, so nothing will be sent (each SMS ends NOT_SENT): choose one in ',
      link('#/sms-settings', 'Settings'), '.'),
    form('Send', go,
      field('Recipients', to, { path: 'to', help: 'One number per line, in E.164 (+ and the country code); up to 1000. Errors count the numbers from 0: to[2] is the third.' }),
      field('Text', text, { path: 'text', help: 'Up to 1600 characters.' }),
      field('From (optional)', from, { path: 'from', help: 'A number or sender id; empty: the SMS sender\'s default.' }),
      submit('Send')),
    h('h2', {}, 'Open a send'),
    h('form', { novalidate: true, 'aria-label': 'Open a send', class: 'row', onsubmit: e => {
      e.preventDefault();
      if (id.value.trim()) location.hash = `#/send/${enc(id.value.trim())}`;
    } }, field('Send id', id), h('button', { type: 'submit' }, 'Open')));
}

async function sent(el, id) {
  const [s, m] = await Promise.all([get(`v1/messages/${enc(id)}`), get('v1/account/messaging')]);
  const rows = s.messages.map(r => h('tr', { 'data-id': r.id },
    h('td', {}, link(`#/sms/${enc(r.id)}`, r.to)), h('td', {}, status(r.deliveryStatus)), h('td', { class: 'name' }, r.error || ''),
    h('td', {}, r.segments), h('td', {}, r.deliveryTime || '—')));
  const again = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  clear(el, tabs('send'), head(`Send ${s.id}`, h('button', { type: 'button', onclick: again }, 'Refresh'), link('#/send', 'New send', 'button primary')),
    h('div', { class: 'card', id: 'send' }, facts([
      ['Send id', s.id], ['Text', s.text], ['Created', s.createdAt], ['Messages', s.totalMessages],
      // The send says when its report was due, not where it went: the settings tell where it goes now.
      ['Delivery report', !s.reportedAt ? 'not yet: when every SMS has a final status, or 24 hours after the send'
        : m.webhooks.deliveryReport ? h('span', {}, `went out ${s.reportedAt} (`, link('#/log?eventType=sms.delivery_report', 'delivery reports in the event log'), ')')
          : h('span', {}, `due ${s.reportedAt}, but `, link('#/sms-messaging', 'Message settings'), ' have no delivery report destination: not sent')],
    ])),
    h('h2', {}, 'Recipients'),
    rows.length ? table(['To (the SMS record)', 'Status', 'Error', 'Segments', 'Final status at'], rows) : empty('No SMS records: they are kept as long as the delivery log.'));
}
