// The drill-down's partitions table: with leased partitions (`assignment: 'leased'`), every partition
// of the selected consumer's stream and group, its stream, its owner runtime (its token) and whether
// this runtime owns it. Each row carries `data-partition`, `data-owner` and `data-mine`.
import { h } from './dom.js';
import { ownerLabel } from './overview.js';

/** The partitions of the same logical stream and group as `model`, in partition order. */
export function siblings(models, model) {
  if (!model?.partition) return [];
  return models
    .filter((m) => m.partition && m.group === model.group && m.partition.of === model.partition.of)
    .sort((a, b) => a.partition.number - b.partition.number);
}

/** Mount the table in `root` (a section, hidden while the consumer in view has no leased partition). */
export function createPartitions(root) {
  let painted = null;
  return {
    /** Show `list` (siblings()), marking the row of `currentId`. */
    paint(list, currentId) {
      const key = JSON.stringify([currentId, list.map((m) => [m.id, m.stream, m.partition])]);
      if (key === painted) return;
      painted = key;
      root.hidden = list.length === 0;
      if (list.length === 0) return root.replaceChildren();
      const owned = list.filter((m) => m.partition.mine).length;
      const table = h('table', { class: 'partition-table' });
      const head = h('tr');
      for (const [label, hint] of [
        ['#', 'the partition number'],
        ['stream', "the partition's own stream"],
        ['owner', 'the runtime holding its lease (its token); mine: this runtime'],
      ])
        head.append(h('th', { scope: 'col', title: hint }, label));
      table.append(h('thead'), h('tbody'));
      table.tHead.append(head);
      for (const m of list) {
        const p = m.partition;
        const row = h('tr', {
          'data-partition': String(p.number),
          'data-owner': p.owner ?? '',
          'data-mine': String(p.mine),
          'aria-current': String(m.id === currentId),
        });
        row.append(
          h('td', { class: 'num' }, String(p.number)),
          h('td', { class: 'stream', title: m.id }, m.stream),
          h('td', { class: 'owner-cell', title: p.owner ?? 'free' }, ownerLabel(p)),
        );
        table.tBodies[0].append(row);
      }
      root.replaceChildren(
        h(
          'h3',
          { title: 'leased partitions: each is read by one runtime at a time' },
          `partitions of ${list[0].partition.of} · ${owned}/${list.length} mine`,
        ),
        table,
      );
    },
    reset() {
      painted = null;
    },
  };
}
