// The drill-down of one consumer: its counters, its live charts, its statechart and its dispatch
// workers' chart (each drawn once, for the consumer in view), the breakdown by message type and its
// own timeline. The selection lives in the URL (`#consumer=<id>`), so a link opens it.
import { renderChart } from './chart.js';
import { createConcurrencyControl } from './concurrency.js';
import { h, ms, show } from './dom.js';
import { COLUMNS } from './overview.js';
import { createPartitions } from './partitions.js';
import { createTrends } from './trends.js';

const TITLES = Object.fromEntries(COLUMNS.map(([key, , title]) => [key, title]));
const STATS = [
  ['rate', 'msg/s'],
  ['processed', 'handled'],
  ['failed', 'failed attempts'],
  ['retriedMessages', 'retried msgs'],
  ['retried', 'retry attempts'],
  ['deadLettered', 'dead-lettered'],
  ['scheduled', 'durable retries'],
  ['published', 'outputs written'],
  ['inFlight', 'in flight'],
  ['keysWaiting', 'keys waiting'],
  ['restarts', 'restarts'],
  ['pending', 'pending'],
  ['lag', 'lag'],
];
TITLES.retried = 'failed attempts that were tried again in process';
TITLES.scheduled = 'messages handed to the durable retry scheduler (they come back later)';
TITLES.published = 'outputs of ctx.publish written with their message’s ack (exactly once)';
const TIMELINE_ROWS = 40;
const TYPE_COLUMNS = [
  ['type', "the message's type field"],
  ['handled', 'handler calls that succeeded (one per message with a single handler)'],
  ['retried', 'messages retried after a failed attempt, once per delivery'],
  ['dead-lettered', 'messages that ended in the dead-letter stream'],
  ['p50', 'median handler time per call'],
  ['p99', '99th percentile of the handler time per call'],
];

/** The selection in the URL: `#consumer=<id>` (null when none). */
export function selectedInUrl() {
  return new URLSearchParams(location.hash.slice(1)).get('consumer');
}

/** Put the selection in the URL (a new history entry, so Back returns to the overview). */
export function setUrlSelection(id) {
  const hash = id === null ? '' : `#${new URLSearchParams({ consumer: id })}`;
  if (location.hash !== hash) history.pushState(null, '', hash || `${location.pathname}${location.search}`);
}

/**
 * Mount the drill-down in `root`; `charts`: the laid-out statecharts; `onClose()` clears the
 * selection; `controls.concurrency`: offer the concurrency control (with `token` on its requests).
 */
export function createDetail(root, charts, windowMs, onClose, controls = {}, token = null) {
  const title = h('h2');
  const meta = h('span', { class: 'meta' });
  const badge = h('span', { class: 'state' });
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'close the drill-down' }, '×');
  const head = h('header');
  head.append(title, meta, badge, close);
  const exit = h('p', { class: 'exit' });
  const stats = h('dl', { class: 'stats' });
  const fields = {};
  for (const [key, label] of STATS) {
    const cell = h('div', { class: `stat stat-${key}` });
    const dd = h('dd', { 'data-field': key });
    cell.append(h('dt', { title: TITLES[key] ?? label }, label), dd);
    stats.append(cell);
    fields[key] = dd;
  }
  const trendBox = h('section', { class: 'trends', 'aria-label': 'live charts' });
  const types = h('section', { class: 'types', 'aria-label': 'by message type' });
  const consumerChart = h('div', { class: 'chart consumer-chart' });
  const workerList = h('ul', { class: 'worker-list' });
  const workerChart = h('div', { class: 'chart worker-chart' });
  const control = controls.concurrency ? createConcurrencyControl(token) : null;
  const machines = h('section', { class: 'machines' });
  machines.append(h('h3', {}, 'consumer statechart'), consumerChart, h('h3', {}, 'dispatch workers'));
  if (control) machines.append(control.root);
  machines.append(workerList, workerChart);
  const events = h('ol', { class: 'events' });
  const eventsBox = h('section', { class: 'consumer-timeline', 'aria-label': 'timeline of this consumer' });
  eventsBox.append(h('h3', {}, 'timeline'), events);
  const partitionBox = h('section', { class: 'partitions', 'aria-label': 'leased partitions', hidden: '' });
  const partitions = createPartitions(partitionBox);
  const side = h('div', { class: 'detail-side' });
  side.append(partitionBox, types, eventsBox);
  const body = h('div', { class: 'detail-body' });
  const main = h('div', { class: 'detail-main' });
  main.append(stats, trendBox);
  body.append(main, side);
  root.replaceChildren(head, exit, body, machines);
  close.addEventListener('click', onClose);

  // Each machine's chart is drawn once, for whichever consumer is in view, and re-highlighted.
  const consumer = renderChart(consumerChart, charts.consumer);
  const worker = renderChart(workerChart, charts.worker);
  let current = null;
  let trends = null;

  function paint(model, previousState) {
    badge.textContent = model.state;
    badge.dataset.state = model.state;
    root.dataset.state = model.state;
    for (const [key] of STATS) fields[key].textContent = show(key, model[key]);
    const reasons = Object.entries(model.deadLetteredByReason ?? {}).map(([r, n]) => `${r} ${n}`);
    fields.deadLettered.title = reasons.join(', ') || 'none';
    exit.textContent = [
      model.lastExit
        ? `last exit: ${model.lastExit.reason}${model.lastExit.error ? ` — ${model.lastExit.error}` : ''}`
        : '',
      reasons.length ? `dead letters by reason: ${reasons.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    exit.hidden = exit.textContent === '';
    consumer.setActive({ [model.state]: 1 });
    if (previousState && previousState !== model.state) consumer.flash(previousState, model.state);
    const counts = {};
    workerList.replaceChildren(
      ...model.workers.map((w) => {
        counts[w.state] = (counts[w.state] ?? 0) + 1;
        const notes = [];
        if (w.batch) notes.push(`batch of ${w.batch.size} from ${w.batch.firstId}`);
        if (w.attempt > 1) notes.push(`attempt ${w.attempt}`);
        const label = notes.length > 0 ? `${w.id} ${w.state} (${notes.join(', ')})` : `${w.id} ${w.state}`;
        const batch = w.batch
          ? { 'data-batch-size': String(w.batch.size), 'data-first-id': w.batch.firstId }
          : {};
        return h('li', { 'data-worker-id': w.id, 'data-state': w.state, ...batch }, label);
      }),
    );
    worker.setActive(counts, true);
    control?.paint(model);
    paintTypes(model.types ?? []);
  }

  let paintedTypes = null;
  function paintTypes(list) {
    const key = JSON.stringify(list);
    if (key === paintedTypes) return; // they change once per group poll, updates come every sample
    paintedTypes = key;
    if (list.length === 0) {
      types.replaceChildren(h('h3', {}, 'by message type'), h('p', { class: 'empty' }, 'No messages yet.'));
      return;
    }
    const table = h('table', { class: 'type-table' });
    const headRow = h('tr');
    for (const [label, hint] of TYPE_COLUMNS) headRow.append(h('th', { scope: 'col', title: hint }, label));
    table.append(h('thead'), h('tbody'));
    table.tHead.append(headRow);
    for (const t of list) {
      const row = h('tr', { 'data-type': t.type });
      row.append(h('td', { class: 'type', title: t.type }, t.type));
      for (const key of ['handled', 'retried', 'deadLettered']) {
        const cell = h('td', { class: `num col-${key}`, 'data-field': key }, show(key, t[key]));
        cell.classList.toggle('nonzero', t[key] > 0);
        row.append(cell);
      }
      row.append(h('td', { class: 'num' }, ms(t.p50)), h('td', { class: 'num' }, ms(t.p99)));
      table.tBodies[0].append(row);
    }
    types.replaceChildren(
      h('h3', { title: 'the busiest types, handler time per call' }, 'by message type'),
      table,
    );
  }

  function line(entry) {
    const time = new Date(entry.at);
    const li = h('li', { class: `lvl-${entry.level}`, 'data-kind': entry.kind });
    li.append(
      h('time', { datetime: time.toISOString() }, time.toLocaleTimeString('en-GB', { hour12: false })),
      h('span', { class: 'what', title: entry.text }, entry.text),
    );
    return li;
  }

  return {
    get id() {
      return current;
    },
    /** Show `model` (its `series` for the charts, `entries` its recent timeline, oldest first). */
    show(model, series, entries) {
      current = model.id;
      paintedTypes = null;
      root.hidden = false;
      root.dataset.detailFor = model.id;
      title.textContent = model.id;
      meta.textContent = `${model.stream} · ${model.group} · ${model.consumer}`;
      trendBox.dataset.trendsFor = model.id;
      trends = createTrends(trendBox, windowMs, series);
      events.replaceChildren(...entries.slice(-TIMELINE_ROWS).reverse().map(line));
      control?.show(model);
      paint(model, null);
    },
    hide() {
      current = null;
      trends = null;
      root.hidden = true;
      delete root.dataset.detailFor;
    },
    paint,
    /** The leased partitions of the consumer in view's stream and group (partitions.js siblings()). */
    partitions(list) {
      partitions.paint(list, current);
    },
    /** Redraw the charts (a point was appended to the series shown). */
    redraw() {
      trends?.draw();
    },
    /** New timeline entries of the consumer in view. */
    timeline(entries) {
      for (const entry of entries) events.prepend(line(entry));
      while (events.children.length > TIMELINE_ROWS) events.lastElementChild.remove();
    },
  };
}
