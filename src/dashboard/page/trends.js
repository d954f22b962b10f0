// Live charts of one consumer: processed/s, in flight, pending and lag over the last minutes, drawn
// as hand-written SVG sparklines (no library, nothing fetched). Points come from the server's samples
// (one per group poll; see src/dashboard/trends.ts); the page only appends and redraws.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 48;
const PAD = 3;
// A longer gap between two points (the dashboard was not sampling) breaks the line.
const GAP_MS = 15_000;
const MIN_SPAN_MS = 10_000;

/** [key in the sample tuple order, label]. */
export const TREND_SERIES = [
  ['rate', 'processed/s'],
  ['inFlight', 'in flight'],
  ['pending', 'pending'],
  ['lag', 'lag'],
];

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const show = (value) => (value === null || value === undefined ? '–' : fmt.format(value));

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function minutes(ms) {
  const m = ms / 60_000;
  return m >= 1 ? `${fmt.format(m)} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * The SVG paths of one series in a `width` × `height` box: the time axis spans the data until the
 * window is full (at least MIN_SPAN_MS), then scrolls; a null value or a gap over GAP_MS breaks the line.
 */
export function sparkPaths(at, values, windowMs, width, height) {
  const count = at.length;
  const end = count > 0 ? at[count - 1] : 0;
  const span = Math.min(windowMs, Math.max(MIN_SPAN_MS, count > 0 ? end - at[0] : 0));
  const start = end - span;
  const x = (t) => (PAD + ((width - 2 * PAD) * (t - start)) / span).toFixed(1);
  let max = 0;
  let points = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    points++;
    if (v > max) max = v;
  }
  const top = max > 0 ? max : 1;
  const y = (v) => (height - PAD - ((height - 2 * PAD) * v) / top).toFixed(1);
  const base = height - PAD;
  let line = '';
  let area = '';
  let segment = [];
  const flush = () => {
    if (segment.length === 0) return;
    const [first] = segment;
    const last = segment[segment.length - 1];
    line += `M${first[0]} ${first[1]}`;
    for (const [px, py] of segment.slice(1)) line += ` L${px} ${py}`;
    if (segment.length === 1) line += ' h1';
    area += `M${first[0]} ${base} ${segment.map(([px, py]) => `L${px} ${py}`).join(' ')} L${last[0]} ${base} Z`;
    segment = [];
  };
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v === null || v === undefined || (i > 0 && at[i] - at[i - 1] > GAP_MS)) flush();
    if (v !== null && v !== undefined) segment.push([x(at[i]), y(v)]);
  }
  flush();
  return { line, area, max, points };
}

/** A consumer's series (parallel arrays), kept to the last `windowMs`. */
export function createSeries(windowMs, initial) {
  const data = { at: [], rate: [], inFlight: [], pending: [], lag: [] };
  if (initial) for (const key of Object.keys(data)) data[key] = [...(initial[key] ?? [])];
  return {
    data,
    /** Append one sample (`values` in TREND_SERIES order) and drop what fell out of the window. */
    push(at, values) {
      data.at.push(at);
      TREND_SERIES.forEach(([key], i) => {
        data[key].push(values[i]);
      });
      const since = at - windowMs;
      let old = 0;
      while (old < data.at.length && data.at[old] < since) old++;
      if (old > 0) for (const list of Object.values(data)) list.splice(0, old);
    },
  };
}

/**
 * Draw the four charts of a consumer into `container` from `series` (createSeries: the page keeps
 * one per consumer and appends to it); `windowMs` is how far back they reach. Returns `{ draw() }`
 * to call after a point was appended.
 */
export function createTrends(container, windowMs, series) {
  const { data } = series;
  const figures = TREND_SERIES.map(([key, label]) => {
    const node = html('figure', { class: 'trend', 'data-series': key, 'data-points': '0' });
    const caption = html('figcaption');
    const value = html('span', { class: 'trend-value', 'data-trend-value': '' }, '–');
    const peak = html('span', { class: 'trend-max' });
    caption.append(html('span', { class: 'trend-label' }, label), value, peak);
    const svg = el('svg', {
      class: 'sparkline',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `${label} over the last ${minutes(windowMs)}`,
    });
    el('line', { class: 'trend-base', x1: 0, x2: WIDTH, y1: HEIGHT - PAD, y2: HEIGHT - PAD }, svg);
    const area = el('path', { class: 'trend-area', d: '' }, svg);
    const line = el('path', { class: 'trend-line', d: '' }, svg);
    node.append(caption, svg);
    return { key, label, node, value, peak, area, line };
  });
  container.replaceChildren(...figures.map((f) => f.node));

  function draw() {
    const count = data.at.length;
    for (const figure of figures) {
      const { line, area, max, points } = sparkPaths(data.at, data[figure.key], windowMs, WIDTH, HEIGHT);
      figure.line.setAttribute('d', line);
      figure.area.setAttribute('d', area);
      figure.node.dataset.points = String(points);
      figure.value.textContent = show(count > 0 ? data[figure.key][count - 1] : null);
      figure.peak.textContent = points > 0 ? `max ${show(max)}` : '';
      figure.node.title = `${figure.label}: ${points} points over the last ${minutes(windowMs)}`;
    }
  }

  draw();
  return {
    /** Redraw (after the series grew). */
    draw,
  };
}
