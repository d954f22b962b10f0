// Draws a statechart laid out on the server (elkjs) as SVG, highlights active states, animates edges.
const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

let markerSeq = 0;

/** Render `chart` ({ width, height, nodes, edges }) into `container`; returns a handle to drive it. */
export function renderChart(container, chart) {
  const marker = `arrow-${++markerSeq}`;
  const svg = el('svg', {
    viewBox: `0 0 ${Math.ceil(chart.width)} ${Math.ceil(chart.height)}`,
    class: 'statechart',
    role: 'img',
    'aria-label': `${chart.machine} statechart`,
  });
  svg.style.maxWidth = `${Math.ceil(chart.width)}px`;
  const defs = el('defs', {}, svg);
  const head = el(
    'marker',
    {
      id: marker,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    },
    defs,
  );
  el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }, head);

  const edges = new Map();
  const edgeLayer = el('g', { class: 'edges' }, svg);
  for (const edge of chart.edges) {
    const g = el('g', { class: 'edge', 'data-edge': edge.id }, edgeLayer);
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
    // A targetless transition (actions only, the state stays) is a dashed loop.
    const line = { d, class: 'edge-line', 'marker-end': `url(#${marker})` };
    el('path', edge.targetless ? { ...line, 'stroke-dasharray': '4 3' } : line, g);
    if (edge.label && edge.labelBox) {
      const lines = edge.labelLines?.length ? edge.labelLines : [edge.label];
      const x = edge.labelBox.x + edge.labelBox.width / 2;
      const lineHeight = edge.labelBox.height / lines.length;
      const text = el('text', { x, y: edge.labelBox.y + lineHeight - 3, class: 'edge-label' }, g);
      lines.forEach((content, i) => {
        const span = el('tspan', { x, dy: i === 0 ? 0 : lineHeight }, text);
        span.textContent = content;
      });
    }
    const title = el('title', {}, g);
    const stays = edge.targetless ? ' (targetless: stays)' : '';
    title.textContent = `${edge.source} → ${edge.target}: ${edge.label || 'start'}${stays}${edge.guards.length ? ` [${edge.guards.join(', ')}]` : ''}`;
    edges.set(edge.id, g);
  }

  const nodes = new Map();
  const nodeLayer = el('g', { class: 'nodes' }, svg);
  for (const node of chart.nodes) {
    const g = el(
      'g',
      {
        class: `state-node kind-${node.kind}`,
        'data-node': node.id,
        transform: `translate(${node.x} ${node.y})`,
      },
      nodeLayer,
    );
    if (node.kind === 'initial') {
      el('circle', { cx: node.width / 2, cy: node.height / 2, r: node.width / 2, class: 'initial-dot' }, g);
    } else {
      el('rect', { width: node.width, height: node.height, rx: 8, class: 'state-box' }, g);
      if (node.kind === 'final')
        el(
          'rect',
          { x: 3, y: 3, width: node.width - 6, height: node.height - 6, rx: 6, class: 'final-ring' },
          g,
        );
      const text = el('text', { x: node.width / 2, y: node.height / 2 + 4, class: 'state-label' }, g);
      text.textContent = node.label;
      const badge = el('text', { x: node.width - 4, y: -4, class: 'count-badge' }, g);
      nodes.set(node.id, { g, badge });
    }
  }
  container.replaceChildren(svg);

  return {
    /** `counts`: state → how many actors are in it (a single actor: { [state]: 1 }). */
    setActive(counts, showCounts = false) {
      for (const [id, { g, badge }] of nodes) {
        const n = counts[id] ?? 0;
        g.classList.toggle('active', n > 0);
        badge.textContent = showCounts && n > 0 ? `×${n}` : '';
      }
    },
    /** Animate the edge taken from `from` to `to` (or the any-state edge into `to`). */
    flash(from, to) {
      const g = edges.get(`${from}->${to}`) ?? edges.get(`__any->${to}`);
      if (!g) return;
      g.classList.remove('fire');
      void g.getBoundingClientRect();
      g.classList.add('fire');
    },
  };
}
