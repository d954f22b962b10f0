// streamvisor dashboard: one EventSource; an `init` with the statecharts and the whole view, then
// `update`s carrying only what changed (at most one per sample on the server).
import { renderChart } from './chart.js';
import { mountDeadLetters } from './dead-letters.js';
import { createTrends } from './trends.js';

const token = new URLSearchParams(location.search).get('token');
const streamUrl = `${document.body.dataset.events ?? 'events'}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

const STATS = [
  ['rate', 'processed/s'],
  ['processed', 'processed'],
  ['failed', 'failed'],
  ['retried', 'retried'],
  ['deadLettered', 'dead-lettered'],
  ['inFlight', 'in flight'],
  ['restarts', 'restarts'],
  ['pending', 'pending'],
  ['lag', 'lag'],
];
const SUPERVISOR_STATE = {
  starting: 'running',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  failed: 'failed',
};
const MAX_TIMELINE = 200;

const $ = (id) => document.getElementById(id);
let charts = null;
let supervisorChart = null;
let trendHistory = { windowMs: 300_000, consumers: {} };
const consumers = new Map(); // id → { model, card, fields, chart, workerChart, workerList }
let deadLetters = null; // Promise of the dead-letter panels' refresh(stream?)

function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

const fmt = new Intl.NumberFormat('en-US');
function show(key, value) {
  if (value === null || value === undefined) return '–';
  if (key === 'rate') return value.toFixed(1);
  return fmt.format(value);
}

function buildConsumer(model) {
  const card = h('article', {
    class: 'node consumer',
    'data-consumer-id': model.id,
    'data-state': model.state,
  });
  const header = h('header');
  header.append(
    h('h3', {}, model.id),
    h('span', { class: 'meta' }, `${model.stream} · ${model.group} · ${model.consumer}`),
    h('span', { class: 'state', 'data-field': 'state' }, model.state),
  );
  const stats = h('dl', { class: 'stats' });
  const fields = {};
  for (const [key, label] of STATS) {
    const cell = h('div', { class: `stat stat-${key}` });
    const dd = h('dd', { 'data-field': key });
    const hint = key === 'pending' || key === 'lag' ? { title: `the group's ${label} (XINFO GROUPS)` } : {};
    cell.append(h('dt', hint, label), dd);
    stats.append(cell);
    fields[key] = dd;
  }
  const detail = h('p', { class: 'detail', 'data-field': 'detail' });
  const trendBox = h('section', {
    class: 'trends',
    'data-trends-for': model.id,
    'aria-label': 'live charts',
  });
  const chartBox = h('div', { class: 'chart consumer-chart' });
  const workers = h('section', { class: 'workers' });
  const workerList = h('ul', { class: 'worker-list' });
  const workerChartBox = h('div', { class: 'chart worker-chart' });
  workers.append(h('h4', {}, 'dispatch workers'), workerList, workerChartBox);
  card.append(header, stats, trendBox, detail, chartBox, workers);
  const entry = {
    model,
    card,
    fields,
    detail,
    stateBadge: header.querySelector('.state'),
    chart: renderChart(chartBox, charts.consumer),
    workerChart: renderChart(workerChartBox, charts.worker),
    workerList,
    trends: createTrends(trendBox, trendHistory.windowMs, trendHistory.consumers[model.id]),
  };
  paint(entry, null);
  return entry;
}

function paint(entry, previousState) {
  const { model } = entry;
  for (const [key] of STATS) entry.fields[key].textContent = show(key, model[key]);
  const reasons = Object.entries(model.deadLetteredByReason ?? {}).map(([r, n]) => `${r} ${n}`);
  entry.fields.deadLettered.title = reasons.join(', ') || 'none';
  const parts = [];
  if (model.lastExit)
    parts.push(
      `last exit: ${model.lastExit.reason}${model.lastExit.error ? ` — ${model.lastExit.error}` : ''}`,
    );
  if (reasons.length) parts.push(`dead letters: ${reasons.join(', ')}`);
  if (model.scheduled) parts.push(`durable retries: ${fmt.format(model.scheduled)}`);
  entry.detail.textContent = parts.join(' · ');
  entry.detail.title = parts.join('\n');
  entry.detail.hidden = parts.length === 0;
  entry.card.dataset.state = model.state;
  entry.stateBadge.textContent = model.state;
  entry.stateBadge.dataset.state = model.state;
  entry.chart.setActive({ [model.state]: 1 });
  if (previousState && previousState !== model.state) {
    entry.chart.flash(previousState, model.state);
    entry.stateBadge.classList.remove('pulse');
    void entry.stateBadge.offsetWidth;
    entry.stateBadge.classList.add('pulse');
  }
  const counts = {};
  const items = model.workers.map((w) => {
    counts[w.state] = (counts[w.state] ?? 0) + 1;
    const label = w.attempt > 1 ? `${w.id} ${w.state} (attempt ${w.attempt})` : `${w.id} ${w.state}`;
    return h('li', { 'data-worker-id': w.id, 'data-state': w.state }, label);
  });
  entry.workerList.replaceChildren(...items);
  entry.workerChart.setActive(counts, true);
}

function setStatus(status) {
  const pill = $('status');
  pill.textContent = status;
  pill.dataset.status = status;
  const state = SUPERVISOR_STATE[status] ?? status;
  const sup = $('supervisor');
  const before = sup.dataset.state;
  sup.dataset.state = state;
  $('supervisor-state').textContent = state;
  $('supervisor-state').dataset.state = state;
  supervisorChart?.setActive({ [state]: 1 });
  if (before && before !== state) supervisorChart?.flash(before, state);
}

function addTimeline(entries, reset = false) {
  const list = $('timeline');
  if (reset) list.replaceChildren();
  for (const e of entries) {
    const li = h('li', { class: `lvl-${e.level}`, 'data-kind': e.kind });
    const time = new Date(e.at);
    li.append(
      h(
        'time',
        { datetime: time.toISOString() },
        time.toLocaleTimeString('en-GB', { hour12: false }) +
          `.${String(time.getMilliseconds()).padStart(3, '0')}`,
      ),
      h('span', { class: 'who' }, e.consumerId ?? 'runtime'),
      h('span', { class: 'what', title: e.text }, e.text),
    );
    list.prepend(li);
  }
  while (list.children.length > MAX_TIMELINE) list.lastElementChild.remove();
  $('timeline-empty').hidden = list.children.length > 0;
}

function onInit(data) {
  charts = data.charts;
  trendHistory = data.trends ?? trendHistory;
  supervisorChart = renderChart($('supervisor-chart'), charts.supervisor);
  $('supervisor').dataset.state = '';
  consumers.clear();
  const box = $('consumers');
  box.replaceChildren();
  for (const model of data.view.consumers) {
    const entry = buildConsumer(model);
    consumers.set(model.id, entry);
    box.append(entry.card);
  }
  setStatus(data.view.status);
  addTimeline(data.timeline, true);
  deadLetters ??= mountDeadLetters($('dead-letters'), token);
  void deadLetters.then((refresh) => refresh());
}

function onUpdate({ diff, timeline, trend }) {
  for (const [id, values] of Object.entries(trend?.consumers ?? {}))
    consumers.get(id)?.trends.push(trend.at, values);
  if (diff?.status) setStatus(diff.status);
  for (const [id, fields] of Object.entries(diff?.consumers ?? {})) {
    const entry = consumers.get(id);
    if (!entry) continue;
    const previousState = entry.model.state;
    const added = (fields.deadLettered ?? entry.model.deadLettered) - entry.model.deadLettered;
    Object.assign(entry.model, fields);
    paint(entry, previousState);
    if ('deadLettered' in fields) void deadLetters?.then((refresh) => refresh(entry.model.stream, added));
  }
  if (timeline.length) addTimeline(timeline);
}

function connect() {
  const source = new EventSource(streamUrl);
  const conn = $('conn');
  source.addEventListener('open', () => {
    conn.textContent = 'live';
    conn.dataset.conn = 'live';
  });
  source.addEventListener('error', () => {
    conn.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
    conn.dataset.conn = 'down';
  });
  source.addEventListener('init', (event) => onInit(JSON.parse(event.data)));
  source.addEventListener('update', (event) => onUpdate(JSON.parse(event.data)));
}

connect();
