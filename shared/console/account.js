// The account's own settings: which outcome events Ringhook publishes on the event bus
// (GET/PUT /v1/outcome-events). None until chosen: each event costs an EventBridge entry.
import { h, clear, api, get, field, head, showError, clearErrors, when } from './ui.js';

const TYPES = [
  ['delivery.succeeded', 'A delivery succeeded', 'Published when a delivery ends succeeded: its id, event, trigger, webhook, attempts and last status.'],
  ['delivery.failed', 'A delivery failed', 'Published when a delivery ends failed (retries used up, 410 Gone, or refused).'],
];

export async function render(el) {
  const cur = await get('v1/outcome-events');
  const boxes = TYPES.map(([type]) => h('input', { type: 'checkbox', value: type, checked: cur.types.includes(type) }));
  const changed = h('p', { class: 'muted small' });
  const shown = o => { changed.textContent = o.updatedAt ? `Last changed ${when(o.updatedAt)}.` : 'The default: nothing is published.'; };
  shown(cur);
  const top = h('div');
  const form = h('form', { novalidate: true, 'aria-label': 'Outcome events', onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const r = await api('PUT', 'v1/outcome-events', { types: boxes.filter(b => b.checked).map(b => b.value) });
      boxes.forEach(b => { b.checked = r.types.includes(b.value); });
      shown(r);
      top.replaceChildren(h('p', { class: 'notice', role: 'status' }, r.types.length ? `Saved: ${r.types.join(' and ')} will be published.` : 'Saved: no outcome events will be published.'));
    } catch (err) { showError(form, err, { fallback: top }); } finally { btn.disabled = false; }
  } }, top,
  h('fieldset', { 'data-path': 'types' }, h('legend', {}, 'Publish on the event bus'),
    TYPES.map(([type, label, help], i) => field([label, ' ', h('code', {}, type)], boxes[i], { help }))),
  changed,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save outcome events')));
  clear(el, head('Account'),
    h('h2', {}, 'Outcome events'),
    h('p', { class: 'muted' }, 'When a delivery ends, Ringhook can publish an event about it on the event bus (EventBridge on AWS) for your other systems to subscribe to. Each event is billed by the bus, so none are published until you choose them here. Webhooks and the event log are not affected.'),
    form);
}
