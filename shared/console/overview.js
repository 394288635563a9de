// Overview: deliveries in the last hour and day by state, success rate, latency per
// destination (failing first) and a chart, all from GET /v1/stats.
import { h, svg, get, qs, clear, table, link, pct, ms, when, empty, head } from './ui.js';

const RANGES = { hour: ['Last hour', 3600e3, 12], day: ['Last 24 hours', 864e5, 24] };

export async function render(el) {
  const now = Date.now();
  const stats = r => get(`v1/stats${qs({ since: new Date(now - RANGES[r][1]).toISOString(), until: new Date(now).toISOString(), buckets: RANGES[r][2] })}`);
  const [hour, day, { webhooks }] = await Promise.all([stats('hour'), stats('day'), get('v1/webhooks')]);
  const names = Object.fromEntries(webhooks.map(w => [w.id, w.name]));
  const by = { hour, day };
  let range = 'day';
  const body = h('div');
  const buttons = Object.entries(RANGES).map(([k, [label]]) =>
    h('button', { type: 'button', 'aria-pressed': String(k === range), onclick: () => { range = k; draw(); } }, label));
  const draw = () => {
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(Object.keys(RANGES)[i] === range)));
    const s = by[range];
    clear(body,
      s.scanned === 0
        ? empty(`No deliveries in the ${RANGES[range][0].toLowerCase()}.`, h('p', {}, 'Create a ', link('#/webhooks/new', 'webhook'), ' and a ', link('#/triggers/new', 'trigger'), ', then send an event; or send a test event from a webhook.'))
        : [chart(s, RANGES[range][0]), destinations(s, names)],
      s.truncated ? h('p', { class: 'notice' }, `This window has more deliveries than the overview reads: the figures are of the newest ${s.scanned}.`) : null);
  };
  clear(el,
    head('Overview'),
    h('div', { class: 'cards' }, card('Last hour', hour), card('Last 24 hours', day)),
    h('div', { class: 'row' }, h('h2', { id: 'range-h' }, 'Deliveries'), h('div', { class: 'segmented', role: 'group', 'aria-labelledby': 'range-h' }, buttons)),
    body);
  draw();
}

function card(title, s) {
  const t = s.totals;
  return h('section', { class: 'card', 'aria-label': title, 'data-range': title },
    h('h2', {}, title),
    h('div', { class: 'stat' }, pct(t.successRate), h('span', { class: 'muted small' }, ' success rate')),
    h('ul', { class: 'figures' },
      h('li', {}, h('span', { class: 'badge succeeded' }, `${t.succeeded} succeeded`)),
      h('li', {}, h('span', { class: 'badge failed' }, `${t.failed} failed`)),
      h('li', {}, h('span', { class: 'badge pending' }, `${t.pending} pending`))));
}

// Stacked bars per bucket, drawn here as SVG (no chart library).
function chart(s, label) {
  const W = 720, H = 220, L = 36, B = 28, T = 10;
  const n = s.series.length;
  const max = Math.max(1, ...s.series.map(b => b.succeeded + b.failed + b.pending));
  const y = v => T + (H - T - B) * (1 - v / max);
  const bw = (W - L - 8) / n;
  const t = s.totals;
  const total = t.succeeded + t.failed + t.pending;
  const fmt = ms => new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const grid = [0, Math.ceil(max / 2), max].filter((v, i, a) => a.indexOf(v) === i).map(v => [
    svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), stroke: '#d8dce2' }),
    svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#5b6470' }, String(v)),
  ]);
  const bars = s.series.map((b, i) => {
    const x = L + i * bw + 1;
    let base = 0;
    const parts = [['succeeded', '#2e9e57'], ['failed', '#d9453b'], ['pending', '#d7a221']].map(([k, color]) => {
      const v = b[k];
      if (!v) return null;
      const r = svg('rect', { class: `bar ${k}`, x, width: Math.max(1, bw - 2), y: y(base + v), height: y(base) - y(base + v), fill: color, 'data-count': v });
      base += v;
      return r;
    });
    const tip = `${fmt(b.startMs)}–${fmt(b.startMs + s.bucketMs)}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.pending} pending`;
    const every = Math.ceil(n / 6);
    return svg('g', {}, svg('title', {}, tip), svg('rect', { x, y: T, width: Math.max(1, bw - 2), height: H - T - B, fill: 'transparent' }), parts,
      i % every === 0 ? svg('text', { x: x + bw / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#5b6470' }, fmt(b.startMs)) : null);
  });
  const desc = `${label}: ${t.succeeded} succeeded, ${t.failed} failed, ${t.pending} pending deliveries`;
  return h('figure', { class: 'card chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': desc, 'data-total': total, id: 'chart' }, grid, bars),
    h('figcaption', { class: 'legend' }, h('span', {}, h('span', { class: 'swatch sw-ok' }), 'Succeeded'),
      h('span', {}, h('span', { class: 'swatch sw-bad' }), 'Failed'), h('span', {}, h('span', { class: 'swatch sw-wait' }), 'Pending'),
      h('span', { class: 'muted' }, desc)));
}

function destinations(s, names) {
  const rows = s.destinations.map(d => {
    const c = d.counts;
    const name = d.kind === 'webhook' ? (names[d.id] || d.id) : d.kind === 'url' ? d.id : `SMS sender ${d.id}`;
    const filter = d.kind === 'webhook' ? `#/log?webhookId=${encodeURIComponent(d.id)}` : '#/log';
    return h('tr', { class: c.failed ? 'failing' : null },
      h('td', { class: 'name' }, link(filter, name), h('div', { class: 'muted small' }, d.kind)),
      h('td', {}, String(c.succeeded)), h('td', {}, String(c.failed)), h('td', {}, String(c.pending)),
      h('td', {}, pct(c.successRate)), h('td', {}, ms(d.p50Ms)), h('td', {}, ms(d.p95Ms)),
      h('td', {}, d.lastStatus ?? (d.lastError ? 'error' : '—'), h('div', { class: 'muted small' }, when(d.lastAt))));
  });
  return [h('h2', {}, 'Destinations, failing first'),
    table(['Destination', 'Succeeded', 'Failed', 'Pending', 'Success rate', 'p50', 'p95', 'Last status'], rows),
    h('p', { class: 'muted small' }, 'Latency is the attempt time of up to 50 recent deliveries per destination.')];
}
