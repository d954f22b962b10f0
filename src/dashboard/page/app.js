// streamvisor dashboard: one EventSource; an `init` with the statecharts and the whole view, then
// `update`s carrying only what changed (at most one per sample on the server). The page opens on the
// overview (one row per consumer); selecting a row opens its drill-down, kept in the URL.
import { renderChart } from './chart.js';
import { mountDeadLetters } from './dead-letters.js';
import { createDetail, selectedInUrl, setUrlSelection } from './detail.js';
import { createOverview, paintSummary } from './overview.js';
import { siblings } from './partitions.js';
import { createTimeline } from './timeline.js';
import { createSeries } from './trends.js';

const token = new URLSearchParams(location.search).get('token');
const streamUrl = `${document.body.dataset.events ?? 'events'}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

const SUPERVISOR_STATE = {
  starting: 'running',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  failed: 'failed',
};

const $ = (id) => document.getElementById(id);
const models = new Map(); // id → the consumer's view (kept up to date by the diffs)
const series = new Map(); // id → createSeries: its chart points
let windowMs = 300_000;
let overview = null;
let detail = null;
let supervisorChart = null;
let deadLetters = null; // Promise of the dead-letter panels' refresh(stream?, added?)
const timeline = createTimeline($('timeline-box'));

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

/** The drill-down's partitions table, from every consumer's `partition` (leased partitions). */
function paintPartitions() {
  if (detail?.id) detail.partitions(siblings([...models.values()], models.get(detail.id)));
}

function summary() {
  paintSummary([...models.values()], $('consumer-states'), $('dl-reasons'), $('dl-total'));
}

/**
 * Open the drill-down of `id` (null: close it). `how`: 'user' (a click or a key: put it in the URL
 * and bring it into view), 'link' (the URL named it when the page opened: bring it into view), or
 * 'history' (Back, Forward: leave the scroll alone).
 */
function select(id, how = 'history') {
  const model = id === null ? undefined : models.get(id);
  if (how === 'user') setUrlSelection(model ? id : null);
  overview?.select(model ? id : null);
  $('supervisor-view').hidden = Boolean(model);
  if (!model) return detail?.hide();
  if (detail.id !== id) detail.show(model, series.get(id), timeline.of(id));
  paintPartitions();
  const box = $('detail');
  if (how !== 'history' && box.getBoundingClientRect().top > innerHeight - 120)
    box.scrollIntoView({ block: 'start' });
}

function onInit(data) {
  windowMs = data.trends?.windowMs ?? windowMs;
  supervisorChart = renderChart($('supervisor-chart'), data.charts.supervisor);
  $('supervisor').dataset.state = '';
  // Once: a reconnect's `init` only repaints (the rows' key handling stays bound once).
  overview ??= createOverview($('consumers'), windowMs, (id) => select(id, 'user'));
  detail = createDetail($('detail'), data.charts, windowMs, () => select(null, 'user'), data.controls, token);
  models.clear();
  series.clear();
  for (const model of data.view.consumers) {
    models.set(model.id, model);
    series.set(model.id, createSeries(windowMs, data.trends?.consumers?.[model.id]));
  }
  overview.reset(data.view.consumers);
  for (const model of data.view.consumers) {
    overview.paint(model);
    overview.spark(model.id, series.get(model.id));
  }
  summary();
  setStatus(data.view.status);
  timeline.add(data.timeline, true);
  select(selectedInUrl(), 'link');
  deadLetters ??= mountDeadLetters($('dead-letters'), token);
  void deadLetters.then((refresh) => refresh());
}

function onUpdate({ diff, timeline: entries, trend }) {
  for (const [id, values] of Object.entries(trend?.consumers ?? {})) {
    const points = series.get(id);
    if (!points) continue;
    points.push(trend.at, values);
    overview.spark(id, points);
    if (detail.id === id) detail.redraw();
  }
  if (diff?.status) setStatus(diff.status);
  for (const [id, fields] of Object.entries(diff?.consumers ?? {})) {
    const model = models.get(id);
    if (!model) continue;
    const previousState = model.state;
    const added = (fields.deadLettered ?? model.deadLettered) - model.deadLettered;
    Object.assign(model, fields);
    overview.paint(model);
    if (detail.id === id) detail.paint(model, previousState);
    if ('deadLettered' in fields) void deadLetters?.then((refresh) => refresh(model.stream, added));
  }
  if (diff?.consumers) summary();
  if (Object.values(diff?.consumers ?? {}).some((fields) => 'partition' in fields)) paintPartitions();
  if (entries.length) {
    timeline.add(entries);
    const mine = entries.filter((e) => e.consumerId === detail.id);
    if (mine.length) detail.timeline(mine);
  }
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

addEventListener('popstate', () => select(selectedInUrl()));
addEventListener('hashchange', () => select(selectedInUrl()));
$('show-dead-letters').addEventListener('click', () => $('dead-letters').scrollIntoView({ block: 'start' }));
connect();
