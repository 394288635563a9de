// Shared helpers: DOM building, the API client, error placement, states, formatting.
// Everything the console shows comes from the public v1 API through `api()`.

const KEY = 'ringhook.apiKey';
let seq = 0;
export const uid = (p = 'f') => `${p}${++seq}`;

// Elements: h('p', {class: 'x', onclick: fn}, 'text', child, [more]).
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'selected', 'disabled', 'textContent', 'hidden', 'open'].includes(k)) el[k] = v;
    else el.setAttribute(k === 'cls' ? 'class' : k, v === true ? '' : v);
  }
  add(el, kids);
  return el;
}
function add(el, kids) {
  for (const k of kids.flat(9)) if (k != null && k !== false) el.append(k instanceof Node ? k : String(k));
}
export function svg(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  add(el, kids);
  return el;
}
export const clear = (el, ...kids) => { el.replaceChildren(); add(el, kids); return el; };

// The API key lives in this tab's session storage only.
export const apiKey = () => sessionStorage.getItem(KEY);
export const setKey = k => sessionStorage.setItem(KEY, k);
export const dropKey = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, error, detail) {
    super(`${error}: ${detail}`);
    Object.assign(this, { status, error, detail });
  }
}

let onUnauthorized = () => {};
export const whenUnauthorized = f => { onUnauthorized = f; };

// One v1 call. `body` is sent as JSON (a string is sent as it is: the JSON views send the
// user's text). Paths are relative to the page, so a path prefix in front of Ringhook works.
export async function api(method, path, body, key = apiKey()) {
  const init = { method, headers: { Authorization: `Bearer ${key}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path.replace(/^\//, ''), init);
  } catch (e) {
    throw new ApiError(0, 'network error', `Ringhook did not answer (${e.message})`);
  }
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: 'bad answer', detail: text.slice(0, 200) }; }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data?.error || `HTTP ${resp.status}`, data?.detail || '');
    if (resp.status === 401 && key === apiKey()) onUnauthorized(err);
    throw err;
  }
  return data;
}
export const get = p => api('GET', p);
export const qs = o => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v != null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};

// States.
export const loading = (what = 'Loading…') => h('p', { class: 'loading', role: 'status' }, what);
export const empty = (text, ...more) => h('div', { class: 'empty' }, h('p', {}, text), more);
export function errorState(err, retry) {
  return h('div', { class: 'error-state', role: 'alert' },
    h('strong', {}, err.error || 'Error'), (err.detail ?? err.message) ? ` — ${err.detail ?? err.message}` : '',
    retry ? [' ', h('button', { type: 'button', onclick: retry }, 'Retry')] : null);
}
export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; }, 4000);
}

// A labelled control. `path` is the request field it edits: an error whose detail starts with
// that path is shown under it.
export function field(label, control, { path, help, cls = 'field' } = {}) {
  control.id ||= uid();
  const kids = [h('label', { for: control.id }, label), control];
  if (control.type === 'checkbox') kids.reverse();
  if (help) {
    const hid = uid('h');
    control.setAttribute('aria-describedby', hid);
    kids.push(h('p', { class: 'help', id: hid }, help));
  }
  return h('div', { class: control.type === 'checkbox' ? `${cls} inline` : cls, 'data-path': path }, kids);
}
export const input = (props = {}) => h('input', { type: 'text', autocomplete: 'off', ...props });
export function select(options, value, props = {}) {
  const el = h('select', props, options.map(o => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v }, label);
  }));
  if (value != null) el.value = value;
  return el;
}

// Errors next to fields. The API's detail starts with the field's path
// ("actions[0].parameters.url: …"); the closest [data-path] in the form shows it, else the form.
export function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach(e => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach(e => {
    e.removeAttribute('aria-invalid');
    const d = (e.getAttribute('aria-describedby') || '').split(' ').filter(x => !x.startsWith('err')).join(' ');
    d ? e.setAttribute('aria-describedby', d) : e.removeAttribute('aria-describedby');
  });
}
export function errorPath(detail, strip = '') {
  const m = /^([A-Za-z_][\w.\-[\]]*): /.exec(detail || '');
  if (!m) return null;
  return strip && m[1].startsWith(strip) ? m[1].slice(strip.length) : m[1];
}
export function showError(form, err, { strip = '', fallback } = {}) {
  clearErrors(form);
  const path = errorPath(err.detail, strip);
  let target = null;
  if (path) {
    let best = -1;
    for (const el of form.querySelectorAll('[data-path]')) {
      if (el.offsetParent === null && !el.closest('dialog')) continue; // hidden
      const p = el.dataset.path;
      const hit = path === p || (path.startsWith(p) && '.['.includes(path[p.length]));
      if (hit && p.length > best) { best = p.length; target = el; }
    }
  }
  const id = uid('err');
  const text = [h('strong', {}, err.error), err.detail ? ` — ${err.detail}` : ''];
  if (target) {
    const msg = h('p', { class: 'field-error', id, role: 'alert', 'data-error-for': target.dataset.path }, text);
    const own = target.querySelector(':scope > .item-error-slot');
    (own || target).append(msg);
    const ctl = target.matches('input,select,textarea') ? target : target.querySelector(':scope > input, :scope > select, :scope > textarea');
    if (ctl) {
      ctl.setAttribute('aria-invalid', 'true');
      ctl.setAttribute('aria-describedby', `${ctl.getAttribute('aria-describedby') || ''} ${id}`.trim());
      ctl.focus();
    } else msg.tabIndex = -1;
    msg.scrollIntoView?.({ block: 'nearest' });
  } else {
    const box = h('div', { class: 'form-error', role: 'alert', id, 'data-error-for': fallback?.dataset?.path || '' }, text);
    (fallback || form).prepend(box);
    box.scrollIntoView?.({ block: 'nearest' });
  }
}

// A modal yes/no question.
export function confirmDialog(title, text, ok = 'Confirm') {
  return new Promise(resolve => {
    const d = h('dialog', { 'aria-labelledby': 'dlg-t' },
      h('h2', { id: 'dlg-t' }, title), h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', value: 'ok', onclick: () => d.close('ok') }, ok),
        h('button', { type: 'button', onclick: () => d.close('') }, 'Cancel')));
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue === 'ok'); });
    document.body.append(d);
    d.showModal();
  });
}

// Page header: a title and its buttons.
export const head = (title, ...actions) => h('div', { class: 'head' }, h('h1', {}, title), actions);
export const link = (href, text, cls) => h('a', { href, class: cls }, text);
export function table(headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headers.map(x => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}
export const badge = (status) => h('span', { class: `badge ${status}` }, status);

// Formatting.
export function when(t) {
  if (t == null) return '—';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
export const pct = r => (r == null ? '—' : `${(r * 100).toFixed(r === 1 || r === 0 ? 0 : 1)}%`);
export const ms = v => (v == null ? '—' : `${v} ms`);
export const json = v => JSON.stringify(v, null, 2);
export function parseJson(text, path, what = 'JSON') {
  if (!text.trim()) return undefined;
  try { return JSON.parse(text); } catch (e) { throw new ApiError(0, `Invalid ${what}`, `${path}: ${e.message}`); }
}
// datetime-local value ↔ RFC 3339 (UTC).
export const toRfc = v => (v ? new Date(v).toISOString() : '');
export function toLocalInput(t) {
  if (!t) return '';
  const d = new Date(t);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

// Rows editor: a list of items, each rendered by `row(item, i)`; add/remove re-render.
export function rowsEditor(items, row, blank, { addLabel, path, legend, help, item = 'row' }) {
  const list = h('div', { class: 'rows' });
  const render = () => {
    clear(list, items.map((it, i) => {
      const el = row(it, i);
      // Before the row's error slot, so the button stays on the row's line.
      el.insertBefore(h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${item} ${i + 1}`,
        onclick: () => { items.splice(i, 1); render(); } }, 'Remove'), el.querySelector(':scope > .item-error-slot'));
      return el;
    }));
  };
  render();
  const addBtn = h('button', { type: 'button', onclick: () => {
    items.push(blank()); render();
    list.lastElementChild?.querySelector('input,select,textarea')?.focus();
  } }, addLabel);
  const fs = h('fieldset', { 'data-path': path }, h('legend', {}, legend),
    help ? h('p', { class: 'help' }, help) : null, list, addBtn);
  fs.render = render;
  return fs;
}

export const EVENT_TYPES = [
  ['agent.wrap', 'Agent Wrap'],
  ['outbound.lead.outcome.predictive', 'Dialler Call Outcome (Predictive)'],
  ['outbound.lead.outcome.preview', 'Dialler Call Outcome (Preview)'],
  ['mpiq.attempt', 'MPIQ Attempt'],
  ['inbound.workflow.abandon', 'Abandoned From Workflow'],
  ['inbound.queue.abandon', 'Abandoned From Queue'],
  ['callback.registered', 'Callback registered'],
  ['callback.cancelled', 'Callback cancelled'],
  ['callback.in_progress', 'Callback in progress'],
  ['callback.chose_messaging', 'Callback: chose messaging'],
  ['callback.finalized', 'Callback finalized'],
  ['call.begin', 'Call begins (call tracking)'],
  ['call.end', 'Call ends (call tracking)'],
];
