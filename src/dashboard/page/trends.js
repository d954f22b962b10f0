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
 * Draw the four charts of a consumer into `container`, starting from `initial` (the server's history
 * for it: parallel arrays `at`, `rate`, `inFlight`, `pending`, `lag`); `windowMs` is how far back
 * they reach. Returns `{ push(at, [rate, inFlight, pending, lag]) }` to add a point.
 */
export function createTrends(container, windowMs, initial) {
  const data = { at: [], rate: [], inFlight: [], pending: [], lag: [] };
  if (initial) for (const key of Object.keys(data)) data[key] = [...(initial[key] ?? [])];
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

  function prune() {
    const since = data.at[data.at.length - 1] - windowMs;
    let old = 0;
    while (old < data.at.length && data.at[old] < since) old++;
    if (old > 0) for (const values of Object.values(data)) values.splice(0, old);
  }

  function draw() {
    const count = data.at.length;
    const end = count > 0 ? data.at[count - 1] : 0;
    // The time axis spans the data until the window is full (at least MIN_SPAN_MS), then scrolls.
    const span = Math.min(windowMs, Math.max(MIN_SPAN_MS, count > 0 ? end - data.at[0] : 0));
    const start = end - span;
    const x = (t) => (PAD + ((WIDTH - 2 * PAD) * (t - start)) / span).toFixed(1);
    for (const figure of figures) {
      const values = data[figure.key];
      let max = 0;
      let points = 0;
      for (const v of values) {
        if (v === null || v === undefined) continue;
        points++;
        if (v > max) max = v;
      }
      const top = max > 0 ? max : 1;
      const y = (v) => (HEIGHT - PAD - ((HEIGHT - 2 * PAD) * v) / top).toFixed(1);
      const base = HEIGHT - PAD;
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
        if (v === null || v === undefined || (i > 0 && data.at[i] - data.at[i - 1] > GAP_MS)) flush();
        if (v !== null && v !== undefined) segment.push([x(data.at[i]), y(v)]);
      }
      flush();
      figure.line.setAttribute('d', line);
      figure.area.setAttribute('d', area);
      figure.node.dataset.points = String(points);
      figure.value.textContent = show(count > 0 ? values[count - 1] : null);
      figure.peak.textContent = points > 0 ? `max ${show(max)}` : '';
      figure.node.title = `${figure.label}: ${points} points over the last ${minutes(windowMs)}`;
    }
  }

  draw();
  return {
    /** Add the point of one sample (`values` in TREND_SERIES order) and redraw. */
    push(at, values) {
      data.at.push(at);
      TREND_SERIES.forEach(([key], i) => {
        data[key].push(values[i]);
      });
      prune();
      draw();
    },
  };
}
