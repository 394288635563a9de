// The console's shell: sign-in, the nav bar and the hash router. Pages are modules that
// render into a container; each shows its own loading, empty and error states.
import { h, clear, api, apiKey, setKey, dropKey, whenUnauthorized, field, input, showError, loading, errorState } from './ui.js';
import * as overview from './overview.js';
import * as triggers from './triggers.js';
import * as webhooks from './webhooks.js';
import * as log from './log.js';
import * as callbacks from './callbacks.js';
import * as resources from './resources.js';

// Loaded when an SMS page is first opened.
const sms = page => async (el, id, q) => (await import('./sms.js')).render(page, el, id, q);
// The message settings and sends: loaded when one of them is first opened.
const messaging = page => async (el, id, q) => (await import('./messaging.js')).render(page, el, id, q);

// The account's settings: loaded when first opened.
const account = async (el, id, q) => (await import('./account.js')).render(el, id, q);

// [key, title, render, nav entry (false: none; the page's `group` entry is highlighted), nav title]
const PAGES = [
  ['overview', 'Overview', overview.render],
  ['triggers', 'Triggers', triggers.render],
  ['webhooks', 'Webhooks', webhooks.render],
  ['log', 'Event log', log.render],
  ['callbacks', 'Callback notifications', callbacks.render],
  ...resources.PAGES.map(p => [p.key, p.title, (el, id, q) => resources.render(p, el, id, q), p.nav, p.navTitle, p.group]),
  ['sms', 'SMS log', sms('log'), true, 'SMS', 'sms'],
  ['flows', 'Flows', sms('flows'), false, null, 'sms'],
  ['contacts', 'Contacts', sms('contacts'), false, null, 'sms'],
  ['sms-settings', 'SMS settings', sms('settings'), false, null, 'sms'],
  ['sms-messaging', 'Message settings', messaging('settings'), false, null, 'sms'],
  ['send', 'Send', messaging('send'), false, null, 'sms'],
  ['account', 'Account', account],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signout = document.getElementById('signout');

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const [page = 'overview', ...rest] = path.split('/');
  return { page: page || 'overview', id: rest.length ? decodeURIComponent(rest.join('/')) : null, query: new URLSearchParams(query) };
}

function signIn(message) {
  nav.hidden = true;
  signout.hidden = true;
  document.title = 'Sign in · Ringhook console';
  const key = input({ type: 'password', name: 'apiKey', autocomplete: 'current-password', spellcheck: 'false' });
  const form = h('form', { class: 'card signin', novalidate: true, onsubmit: async e => {
    e.preventDefault();
    const k = key.value.trim();
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      // Any authenticated read tells whether the key is good.
      await api('GET', 'v1/webhooks', undefined, k);
      setKey(k);
      route();
    } catch (err) {
      showError(form, k ? err : { error: 'API key required', detail: 'apiKey: paste the API key Ringhook printed at its first start' });
    } finally { btn.disabled = false; }
  } },
  h('h1', {}, 'Sign in'),
  h('p', { class: 'muted' }, 'Use a Ringhook API key. It is kept in this browser tab only and sent to this Ringhook server as a Bearer token.'),
  message ? h('div', { class: 'form-error', role: 'alert' }, message) : null,
  field('API key', key, { path: 'apiKey' }),
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  clear(main, form);
  key.focus();
}

function drawNav(active) {
  clear(nav, PAGES.filter(p => p[3] !== false).map(([k, title, , , navTitle]) =>
    h('a', { href: `#/${k}`, 'aria-current': k === active ? 'page' : null }, navTitle || title)));
  nav.hidden = false;
  signout.hidden = false;
}

let current = 0;
async function route() {
  if (!apiKey()) return signIn();
  const { page, id, query } = parseHash();
  const found = PAGES.find(p => p[0] === page) || PAGES[0];
  drawNav(found[5] || found[0]);
  document.title = `${found[1]} · Ringhook console`;
  const n = ++current;
  main.dataset.ready = '';
  window.scrollTo(0, 0);
  document.getElementById('toast').textContent = '';
  // Each render gets its own container: a slow answer for a page left meanwhile lands in a
  // detached element and is not shown.
  const box = h('div', { 'data-page': found[0] }, loading());
  clear(main, box);
  try {
    await found[2](box, id, query);
  } catch (err) {
    if (n === current) clear(box, errorState(err, route));
  }
  if (n === current) {
    main.focus({ preventScroll: true });
    main.dataset.ready = found[0];
  }
}

signout.addEventListener('click', () => { dropKey(); signIn(); });
whenUnauthorized(() => { dropKey(); signIn('The API key is no longer valid: sign in again.'); });
window.addEventListener('hashchange', route);
route();
