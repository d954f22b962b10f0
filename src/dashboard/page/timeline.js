// The page's timeline: lifecycle events, retries and dead letters, each kind with its own recent
// window (a storm of dead letters never pushes a restart out), filterable by kind.
import { h } from './dom.js';

/** [group, label]; a timeline entry's `kind` (a runtime event type) falls in one group. */
export const GROUPS = [
  ['lifecycle', 'lifecycle'],
  ['retries', 'retries'],
  ['dead', 'dead letters'],
];
const PER_GROUP = 200;

export function groupOf(kind) {
  if (kind === 'message.dead-lettered') return 'dead';
  if (kind === 'message.retrying' || kind === 'message.scheduled') return 'retries';
  return 'lifecycle';
}

/** Mount into `box` (filter buttons, the list, the empty note). Returns `{ add(entries, reset), of(id) }`. */
export function createTimeline(box) {
  const filters = h('div', { class: 'filters', role: 'group', 'aria-label': 'show kinds' });
  const list = h('ol', { id: 'timeline' });
  const empty = h('p', { class: 'empty', id: 'timeline-empty' }, 'No lifecycle events yet.');
  const counts = {};
  for (const [group, label] of GROUPS) {
    const button = h('button', { type: 'button', 'data-filter': group, 'aria-pressed': 'true' }, label);
    counts[group] = h('span', { class: 'n' }, '0');
    button.append(counts[group]);
    filters.append(button);
  }
  box.append(filters, list, empty);
  const kept = Object.fromEntries(GROUPS.map(([group]) => [group, []])); // per group: [{ entry, li }]

  filters.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-filter]');
    if (!button) return;
    const on = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(on));
    list.classList.toggle(`hide-${button.dataset.filter}`, !on);
  });

  function line(entry, group) {
    const li = h('li', { class: `lvl-${entry.level}`, 'data-kind': entry.kind, 'data-group': group });
    const time = new Date(entry.at);
    li.append(
      h(
        'time',
        { datetime: time.toISOString() },
        `${time.toLocaleTimeString('en-GB', { hour12: false })}.${String(time.getMilliseconds()).padStart(3, '0')}`,
      ),
      h('span', { class: 'who' }, entry.consumerId ?? 'runtime'),
      h('span', { class: 'what', title: entry.text }, entry.text),
    );
    return li;
  }

  return {
    /** Append entries (oldest first); `reset`: replace everything (a new `init`). */
    add(entries, reset = false) {
      if (reset) {
        list.replaceChildren();
        for (const [group] of GROUPS) kept[group].length = 0;
      }
      for (const entry of entries) {
        const group = groupOf(entry.kind);
        const li = line(entry, group);
        list.prepend(li);
        const ring = kept[group];
        ring.push({ entry, li });
        if (ring.length > PER_GROUP) ring.shift().li.remove();
      }
      for (const [group] of GROUPS) counts[group].textContent = String(kept[group].length);
      empty.hidden = list.children.length > 0;
    },
    /** The kept entries of one consumer, oldest first. */
    of(consumerId) {
      return GROUPS.flatMap(([group]) => kept[group].map((k) => k.entry))
        .filter((e) => e.consumerId === consumerId)
        .sort((a, b) => a.at - b.at);
    },
  };
}
