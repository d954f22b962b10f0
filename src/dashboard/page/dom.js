// Small DOM and number helpers shared by the page's modules.

/** An HTML element with attributes and, optionally, text. */
export function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes, appended to `parent` when given. */
export function svg(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

const whole = new Intl.NumberFormat('en-US');

/** A counter as the page shows it: `–` when unknown, one decimal for a rate, grouped digits else. */
export function show(key, value) {
  if (value === null || value === undefined) return '–';
  if (key === 'rate') return value.toFixed(1);
  return whole.format(value);
}

/** A duration in ms, short: `0.42 ms`, `12 ms`, `1.3 s`. */
export function ms(value) {
  if (value === null || value === undefined) return '–';
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(1)} s`;
}
