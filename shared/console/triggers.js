// Triggers: the list with an enabled toggle, and the create/edit form in the seed's fields
// (name, event type, condition rows, actions) with a JSON view and a test against the seed's
// sample event of the type (POST /v1/triggers/test: evaluated, nothing sent).
import {
  h, clear, api, get, field, input, select, head, link, table, empty, toast, showError, clearErrors,
  rowsEditor, confirmDialog, json, parseJson, EVENT_TYPES,
} from './ui.js';

const OPS = [['=', '= equals'], ['>', '> greater than'], ['<', '< less than'], ['>=', '>= equal or greater'], ['<=', '<= equal or less'], ['in', 'in (comma list)']];
const REFS = ['campaignId', 'wrapCode', 'lead.totalAttempts', 'lead.listId', 'lead.completed', 'leadId', 'agentId', 'interactionType', 'campaign_id', 'status', 'attempts', 'max_attempts'];
const enc = encodeURIComponent;
const sr = t => h('span', { class: 'sr' }, t);
const typeLabel = t => (EVENT_TYPES.find(e => e[0] === t) || [t, t])[1];

export function render(el, id, query) {
  return id ? edit(el, id === 'new' ? null : id, query) : list(el);
}

const spec = t => ({ name: t.name, eventType: t.eventType, enabled: t.enabled, conditions: t.conditions, actions: t.actions });

function describeAction(a, names) {
  const p = a.parameters || {};
  if (a.action === 'lead.update.list') return `move lead to list ${p.listId ?? p['lead.listId']}`;
  return `webhook → ${p.webhookId ? (names[p.webhookId] || p.webhookId) : p.url}`;
}

async function list(el) {
  const [{ triggers }, { webhooks }] = await Promise.all([get('v1/triggers'), get('v1/webhooks')]);
  const names = Object.fromEntries(webhooks.map(w => [w.id, w.name]));
  const rows = triggers.map(t => {
    const state = h('span', { 'aria-hidden': 'true' }, t.enabled ? 'On' : 'Off');
    const toggle = h('input', { type: 'checkbox', checked: t.enabled, 'aria-label': `Enabled: ${t.name}`, onchange: async () => {
      toggle.disabled = true;
      try {
        Object.assign(t, await api('PUT', `v1/triggers/${enc(t.id)}`, { ...spec(t), enabled: toggle.checked }));
        state.textContent = t.enabled ? 'On' : 'Off';
        toast(`${t.enabled ? 'Enabled' : 'Disabled'}: ${t.name}`);
      } catch (err) {
        toggle.checked = t.enabled;
        toast(`Not changed: ${err.error} — ${err.detail}`);
      } finally { toggle.disabled = false; }
    } });
    return h('tr', { 'data-id': t.id },
      h('td', { class: 'name' }, link(`#/triggers/${enc(t.id)}`, t.name)),
      h('td', {}, typeLabel(t.eventType), h('div', { class: 'muted small' }, t.eventType)),
      h('td', {}, t.conditions.length ? t.conditions.map(c => h('div', {}, `${c.reference} ${c.operator} ${c.value}`)) : h('span', { class: 'muted' }, 'every event')),
      h('td', {}, t.actions.map(a => h('div', {}, describeAction(a, names)))),
      h('td', {}, h('label', { class: 'toggle' }, toggle, state)));
  });
  clear(el, head('Triggers', link('#/triggers/new', 'New trigger', 'button primary')),
    triggers.length
      ? table(['Name', 'Event type', 'Conditions', 'Actions', 'Enabled'], rows)
      : empty('No triggers yet. A trigger sends a webhook or moves a lead when an event matches its conditions.', link('#/triggers/new', 'Create a trigger', 'button primary')));
}

// A read's action → the form's flat fields, and back.
const toRow = a => ({ action: a.action, webhookId: a.parameters?.webhookId || '', url: a.parameters?.url || '', listId: a.parameters?.listId || a.parameters?.['lead.listId'] || '' });
function params(a) {
  if (a.action === 'lead.update.list') return a.listId ? { listId: a.listId } : {};
  if (a.webhookId) return { webhookId: a.webhookId };
  return a.url ? { url: a.url } : {};
}

async function edit(el, id, query) {
  const [t, { webhooks }] = await Promise.all([id ? get(`v1/triggers/${enc(id)}`) : null, get('v1/webhooks')]);
  const st = t
    ? { conditions: t.conditions.map(c => ({ ...c })), actions: t.actions.map(toRow) }
    : { conditions: [], actions: [{ action: 'webhook', webhookId: webhooks[0]?.id || '', url: '', listId: '' }] };
  let mode = 'form';

  const nameIn = input({ name: 'name', value: t?.name || '' });
  const types = EVENT_TYPES.map(([v, l]) => [v, `${l} — ${v}`]);
  if (t && !EVENT_TYPES.some(e => e[0] === t.eventType)) types.push([t.eventType, t.eventType]);
  const typeSel = select(types, t?.eventType || 'agent.wrap', { name: 'eventType' });
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: t ? t.enabled : true });

  const condRow = (c, i) => h('div', { class: 'item', 'data-path': `conditions[${i}]` },
    field([sr(`Condition ${i + 1} `), 'Reference'], input({ value: c.reference, list: 'trigger-refs', placeholder: 'campaignId', oninput: e => { c.reference = e.target.value; } }), { path: `conditions[${i}].reference` }),
    field([sr(`Condition ${i + 1} `), 'Operator'], select(OPS, c.operator, { onchange: e => { c.operator = e.target.value; } }), { path: `conditions[${i}].operator`, cls: 'field narrow' }),
    field([sr(`Condition ${i + 1} `), 'Value'], input({ value: c.value, placeholder: '215,223', oninput: e => { c.value = e.target.value; } }), { path: `conditions[${i}].value` }),
    h('div', { class: 'item-error-slot item-error' }));

  const actRow = (a, i) => {
    const p = `actions[${i}]`;
    const box = h('div', { class: 'field', 'data-path': `${p}.parameters` });
    let kind = null;
    const drawParams = () => {
      const k = a.action === 'lead.update.list' ? 'lead' : 'webhook';
      if (k === kind) return;
      kind = k;
      if (k === 'lead') {
        clear(box, field([sr(`Action ${i + 1} `), 'List id'], input({ value: a.listId, placeholder: '354', oninput: e => { a.listId = e.target.value; } }), { path: `${p}.parameters.listId`, help: 'The list to move the event\'s lead to (same campaign).' }));
        return;
      }
      const url = field([sr(`Action ${i + 1} `), 'URL'], input({ type: 'url', value: a.url, placeholder: 'https://your.webservice.com', oninput: e => { a.url = e.target.value; } }), { path: `${p}.parameters.url` });
      url.hidden = !!a.webhookId;
      const to = select([['', 'A URL given here'], ...webhooks.map(w => [w.id, w.name])], a.webhookId, { onchange: e => { a.webhookId = e.target.value; url.hidden = !!a.webhookId; } });
      clear(box, field([sr(`Action ${i + 1} `), 'Send to'], to, { path: `${p}.parameters.webhookId` }), url);
    };
    drawParams();
    return h('div', { class: 'item', 'data-path': p },
      field([sr(`Action ${i + 1} `), 'Action'], input({ value: a.action, list: 'trigger-actions', oninput: e => { a.action = e.target.value.trim(); drawParams(); } }), { path: `${p}.action`, cls: 'field narrow', help: 'webhook or lead.update.list' }),
      box, h('div', { class: 'item-error-slot item-error' }));
  };

  const conds = rowsEditor(st.conditions, condRow, () => ({ reference: '', operator: '=', value: '' }),
    { addLabel: 'Add condition', path: 'conditions', legend: 'Conditions', item: 'condition', help: 'All must hold. None: every event of the type. A reference is a dot path into the payload, e.g. lead.totalAttempts.' });
  const acts = rowsEditor(st.actions, actRow, () => ({ action: 'webhook', webhookId: '', url: '', listId: '' }),
    { addLabel: 'Add action', path: 'actions', legend: 'Actions', item: 'action', help: 'At least one.' });

  const body = () => ({
    name: nameIn.value, eventType: typeSel.value, enabled: enabled.checked,
    conditions: st.conditions.map(c => ({ reference: c.reference, operator: c.operator, value: c.value })),
    actions: st.actions.map(a => ({ action: a.action, parameters: params(a) })),
  });
  const load = o => {
    nameIn.value = o.name ?? '';
    if (o.eventType && ![...typeSel.options].some(x => x.value === o.eventType)) typeSel.append(h('option', { value: o.eventType }, o.eventType));
    typeSel.value = o.eventType ?? typeSel.value;
    enabled.checked = o.enabled !== false;
    st.conditions.splice(0, Infinity, ...(Array.isArray(o.conditions) ? o.conditions : []).map(c => ({ reference: String(c.reference ?? ''), operator: c.operator, value: String(c.value ?? '') })));
    st.actions.splice(0, Infinity, ...(Array.isArray(o.actions) ? o.actions : []).map(toRow));
    conds.render();
    acts.render();
  };

  const jsonArea = h('textarea', { class: 'json', spellcheck: 'false', name: 'json' });
  const jsonBox = field('Trigger JSON', jsonArea, { path: 'json', help: 'The trigger in the seed\'s JSON format, for advanced users. Save sends this text as it is.' });
  const fields = h('div', {},
    h('fieldset', {}, h('legend', {}, 'Trigger'),
      field('Name', nameIn, { path: 'name' }),
      field('Event type', typeSel, { path: 'eventType' }),
      field('Enabled', enabled, { path: 'enabled' })),
    conds, acts,
    h('datalist', { id: 'trigger-refs' }, REFS.map(r => h('option', { value: r }))),
    h('datalist', { id: 'trigger-actions' }, ['webhook', 'lead.update.list'].map(r => h('option', { value: r }))));
  jsonBox.hidden = true;
  const top = h('div');
  const jsonBtn = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => {
    clearErrors(form);
    if (mode === 'form') {
      jsonArea.value = json(body());
      mode = 'json';
    } else {
      try { load(parseJson(jsonArea.value, 'json', 'JSON format') || {}); } catch (err) { return showError(form, err, { fallback: jsonBox }); }
      mode = 'form';
    }
    fields.hidden = mode === 'json';
    jsonBox.hidden = mode === 'form';
    jsonBtn.setAttribute('aria-pressed', String(mode === 'json'));
    (mode === 'json' ? jsonArea : nameIn).focus();
  } }, 'JSON view');

  const saved = query.get('saved') ? h('p', { class: 'notice', role: 'status' }, 'Trigger has been updated') : null;
  const form = h('form', { novalidate: true, 'aria-label': 'Trigger', onsubmit: async e => {
    e.preventDefault();
    clearErrors(form);
    saved?.remove();
    const btn = e.submitter;
    if (btn) btn.disabled = true;
    try {
      const payload = mode === 'json' ? jsonArea.value : body();
      const r = await api(id ? 'PUT' : 'POST', id ? `v1/triggers/${enc(id)}` : 'v1/triggers', payload);
      if (!id) { location.hash = `#/triggers/${enc(r.id)}?saved=1`; return; }
      top.replaceChildren(h('p', { class: 'notice', role: 'status' }, 'Trigger has been updated'));
      if (mode === 'json') jsonArea.value = json(spec(r));
    } catch (err) {
      showError(form, err, { fallback: mode === 'json' ? jsonBox : top });
    } finally { if (btn) btn.disabled = false; }
  } }, top, saved, fields, jsonBox,
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, 'Save'), jsonBtn,
    id ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!await confirmDialog('Delete this trigger?', `"${t.name}" stops firing at once.`, 'Delete')) return;
      try { await api('DELETE', `v1/triggers/${enc(id)}`); location.hash = '#/triggers'; } catch (err) { showError(form, err, { fallback: top }); }
    } }, 'Delete') : null),
  testPanel());

  function testPanel() {
    const payloadArea = h('textarea', { class: 'json', spellcheck: 'false', name: 'payload', placeholder: 'Leave empty to use the seed\'s sample event of the trigger\'s type.' });
    const result = h('div', { id: 'test-result', 'aria-live': 'polite' });
    const panel = h('fieldset', { class: 'test' }, h('legend', {}, 'Test with a sample event'),
      h('p', { class: 'help' }, 'Evaluates the trigger as it is in the form (saved or not) against an event payload. Nothing is saved or sent.'),
      field('Event payload', payloadArea, { path: 'payload' }),
      h('button', { type: 'button', onclick: async () => {
        clearErrors(form);
        let trigger, payload;
        try {
          payload = parseJson(payloadArea.value, 'payload');
          trigger = mode === 'json' ? parseJson(jsonArea.value, 'json', 'JSON format') : body();
        } catch (err) { return showError(form, err, { fallback: mode === 'json' ? jsonBox : top }); }
        clear(result, h('p', { class: 'loading', role: 'status' }, 'Evaluating…'));
        try {
          const r = await api('POST', 'v1/triggers/test', payload === undefined ? { trigger } : { trigger, payload });
          if (!payloadArea.value.trim()) payloadArea.value = json(r.payload);
          clear(result, outcome(r));
        } catch (err) {
          clear(result);
          showError(form, err, { strip: 'trigger.', fallback: mode === 'json' ? jsonBox : top });
        }
      } }, 'Test with a sample event'),
      result);
    return panel;
  }

  clear(el, head(t ? t.name : 'New trigger', link('#/triggers', 'All triggers')), form);
  nameIn.focus();
}

function outcome(r) {
  return h('div', { class: 'card', 'data-fires': String(r.fires) },
    h('p', {}, h('span', { class: `badge ${r.fires ? 'fires' : 'nofire'}` }, r.fires ? 'Fires' : 'Does not fire'), ' ',
      r.sample ? `for the seed's sample event (${r.sample}); edit the payload above and test again.` : 'for the payload above.',
      r.enabled ? '' : ' The trigger is disabled: it would not fire even when its conditions hold.'),
    r.conditions.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Reference', 'Operator', 'Value', 'Found in the event', 'Held'].map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, r.conditions.map(c => h('tr', { 'data-held': String(c.held) },
          h('td', {}, c.reference), h('td', {}, c.operator), h('td', {}, c.value),
          h('td', { class: 'name' }, c.found == null ? h('span', { class: 'muted' }, 'missing') : c.found),
          h('td', { class: c.held ? 'held' : 'notheld' }, c.held ? '✓ held' : '✗ did not hold'))))))
      : h('p', { class: 'muted' }, 'No conditions: every event of the type matches.'),
    h('p', { class: 'muted small' }, `When it fires: ${r.actions.map(a => a.action).join(', ')} (not run by a test).`));
}
