// The overview: one compact row per consumer (state, rate with a sparkline, in flight, pending, lag,
// the outcome counters, restarts) and the summary above it (supervisor, consumers by state, dead
// letters by reason). Rows are focusable (Tab enters the table once): arrow keys, Home and End move,
// Enter or Space selects (drill-down).
import { h, show, svg } from './dom.js';
import { sparkPaths } from './trends.js';

/** [view field, column label, what it counts]: the labels say what is counted (docs/visualization.md). */
export const COLUMNS = [
  ['rate', 'msg/s', 'messages handled per second, over the last group poll (1 s)'],
  ['inFlight', 'in flight', 'messages being handled now'],
  [
    'keysWaiting',
    'keys waiting',
    'ordering keys whose later messages wait behind a failing message (retrying, in process or in place after its scheduled delay) until it succeeds or is dead-lettered',
  ],
  ['pending', 'pending', "the group's pending entries (XINFO GROUPS): delivered, not yet acked"],
  ['lag', 'lag', "the group's lag (XINFO GROUPS): entries not yet delivered to the group"],
  ['processed', 'handled', 'messages whose handlers all succeeded'],
  [
    'failed',
    'failed attempts',
    'handler attempts that threw; a message that failed once and then succeeded counts here too',
  ],
  [
    'retriedMessages',
    'retried msgs',
    'messages tried again after a failed attempt (in process or by a durable retry), once per delivery',
  ],
  ['deadLettered', 'dead-lettered', 'messages that ended in the dead-letter stream (needs attention)'],
  ['restarts', 'restarts', 'times the supervisor restarted the consumer'],
];
const SPARK_W = 96;
const SPARK_H = 22;
const READING = new Set(['polling', 'dispatching', 'recovering']);

/** Build the table head; returns the overview's handle. `onSelect(id)` runs on click, Enter or Space. */
export function createOverview(table, windowMs, onSelect) {
  const head = h('tr');
  head.append(h('th', { scope: 'col' }, 'state'), h('th', { scope: 'col' }, 'consumer'));
  for (const [key, label, title] of COLUMNS) {
    head.append(h('th', { scope: 'col', title, class: `num col-${key}` }, label));
    if (key === 'rate')
      head.append(h('th', { scope: 'col', title: 'msg/s over the charts window' }, 'trend'));
  }
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0];
  const rows = new Map(); // id → { row, fields, badge, spark }

  function build(model) {
    const row = h('tr', {
      'data-consumer-id': model.id,
      'data-state': model.state,
      tabindex: '-1',
      'aria-selected': 'false',
    });
    const badge = h('span', { class: 'state', 'data-field': 'state' }, model.state);
    const stateCell = h('td', { class: 'state-cell' });
    stateCell.append(badge);
    const who = h('td', { class: 'who', title: `${model.stream} · ${model.group} · ${model.consumer}` });
    const owner = h('span', { class: 'owner', hidden: '' });
    who.append(owner, h('span', { class: 'id' }, model.id), h('span', { class: 'meta' }, model.stream));
    row.append(stateCell, who);
    const fields = {};
    let spark = null;
    for (const [key] of COLUMNS) {
      const cell = h('td', { class: `num col-${key}`, 'data-field': key });
      fields[key] = cell;
      row.append(cell);
      if (key === 'rate') {
        const box = h('td', { class: 'spark-cell' });
        const chart = svg('svg', {
          class: 'spark',
          viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
          preserveAspectRatio: 'none',
          'data-spark': 'rate',
          'data-points': '0',
          role: 'img',
          'aria-label': 'msg/s trend',
        });
        const area = svg('path', { class: 'trend-area' }, chart);
        const line = svg('path', { class: 'trend-line' }, chart);
        box.append(chart);
        row.append(box);
        spark = { chart, area, line };
      }
    }
    row.addEventListener('click', () => onSelect(model.id));
    return { row, fields, badge, spark, owner };
  }

  // A roving tabindex: Tab enters the table once (on the selected row, else the first), arrows move.
  function rove(row, focus = true) {
    if (!row) return;
    for (const other of body.rows) other.tabIndex = other === row ? 0 : -1;
    if (focus) row.focus();
  }

  body.addEventListener('keydown', (event) => {
    const row = event.target.closest?.('tr[data-consumer-id]');
    if (!row) return;
    const all = [...body.rows];
    const at = all.indexOf(row);
    const go = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (go !== undefined) {
      event.preventDefault();
      rove(all[Math.max(0, Math.min(all.length - 1, go))]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(row.dataset.consumerId);
    }
  });

  return {
    /** Replace every row (a new `init`). */
    reset(models) {
      rows.clear();
      body.replaceChildren(
        ...models.map((model) => {
          const entry = build(model);
          rows.set(model.id, entry);
          return entry.row;
        }),
      );
      rove(body.rows[0], false);
    },
    /** Show `model`'s current values in its row. */
    paint(model) {
      const entry = rows.get(model.id);
      if (!entry) return;
      entry.row.dataset.state = model.state;
      entry.badge.textContent = model.state;
      entry.badge.dataset.state = model.state;
      for (const [key] of COLUMNS) {
        const cell = entry.fields[key];
        cell.textContent = show(key, model[key]);
        cell.classList.toggle('nonzero', (model[key] ?? 0) > 0);
      }
      paintOwner(entry.owner, model.partition);
      entry.fields.inFlight.title = `${model.inFlight} of ${model.workers.length} workers busy`;
      const reasons = Object.entries(model.deadLetteredByReason ?? {}).map(([r, n]) => `${r} ${n}`);
      entry.fields.deadLettered.title = reasons.join(', ') || 'none';
      entry.fields.restarts.title = model.lastExit
        ? `last exit: ${model.lastExit.reason}${model.lastExit.error ? ` — ${model.lastExit.error}` : ''}`
        : 'no exit';
    },
    /** Redraw a row's sparkline from its series (createSeries). */
    spark(id, series) {
      const spark = rows.get(id)?.spark;
      if (!spark) return;
      const { line, area, points } = sparkPaths(series.data.at, series.data.rate, windowMs, SPARK_W, SPARK_H);
      spark.line.setAttribute('d', line);
      spark.area.setAttribute('d', area);
      spark.chart.dataset.points = String(points);
    },
    /** Mark the selected row (`null`: none). */
    select(id) {
      for (const [rowId, { row }] of rows) row.setAttribute('aria-selected', String(rowId === id));
      rove(rows.get(id)?.row ?? body.rows[0], false);
    },
  };
}

/** A leased partition's owner, short: `mine`, the other runtime's token, or `free`. */
export function ownerLabel(partition) {
  if (partition.mine) return 'mine';
  return partition.owner ?? 'free';
}

/**
 * The owner tag before a leased partition's consumer id (hidden for a consumer without leases): short,
 * the owner's runtime name without its random suffix (the title and `data-owner` have the token). It
 * comes first so that a long id is cut, not the owner; the stream is in the id, so its meta is hidden.
 */
function paintOwner(tag, partition) {
  tag.hidden = !partition;
  tag.parentElement.querySelector('.meta').hidden = Boolean(partition);
  tag.parentElement.classList.toggle('leased', Boolean(partition));
  if (!partition) return;
  tag.dataset.partition = String(partition.number);
  tag.dataset.owner = partition.owner ?? '';
  tag.dataset.mine = String(partition.mine);
  const short = partition.mine ? 'mine' : (partition.owner?.replace(/\/[^/]*$/, '') ?? 'free');
  tag.textContent = `p${partition.number} · ${short}`;
  tag.title = `partition ${partition.number} of ${partition.of}, leased to ${partition.owner ?? 'no runtime (free)'}${partition.mine ? ' (this runtime)' : ''}`;
}

/** The summary above the table: consumers by state, dead letters by reason (summed over consumers). */
export function paintSummary(models, states, reasons, total) {
  const byState = new Map();
  for (const m of models) byState.set(m.state, (byState.get(m.state) ?? 0) + 1);
  const reading = models.filter((m) => READING.has(m.state)).length;
  states.replaceChildren(
    h('span', { class: 'big', 'data-reading': String(reading) }, `${reading}/${models.length}`),
    h('span', { class: 'meta' }, ' reading'),
    ...[...byState].map(([state, n]) => h('span', { class: 'state', 'data-state': state }, `${state} ${n}`)),
  );
  const leased = models.filter((m) => m.partition);
  if (leased.length > 0) {
    const owned = leased.filter((m) => m.partition.mine).length;
    states.append(
      h(
        'span',
        {
          class: 'meta owned',
          'data-owned': String(owned),
          'data-leased': String(leased.length),
          title: 'leased partitions this runtime owns now (the others are read by other runtimes)',
        },
        ` · ${owned}/${leased.length} partitions owned`,
      ),
    );
  }
  const byReason = new Map();
  let sum = 0;
  for (const m of models) {
    for (const [reason, n] of Object.entries(m.deadLetteredByReason ?? {})) {
      byReason.set(reason, (byReason.get(reason) ?? 0) + n);
      sum += n;
    }
  }
  total.textContent = show('deadLettered', sum);
  total.dataset.count = String(sum);
  reasons.replaceChildren(
    ...[...byReason]
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => {
        const item = h('li', { 'data-summary-reason': reason, 'data-count': String(n) });
        item.append(h('span', { class: 'reason' }, reason), h('span', { class: 'count' }, show('n', n)));
        return item;
      }),
  );
  if (byReason.size === 0) reasons.append(h('li', { class: 'none' }, 'none since the runtime started'));
}
