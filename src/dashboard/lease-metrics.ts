import { Counter, Gauge, type Registry } from 'prom-client';
import type { RuntimeEvent } from '../actors/runtime-events.js';
import type { RuntimeSnapshot } from '../runtime/runtime-snapshot.js';

type Labels = { stream: string; group: string; consumer: string };

/** The logical stream of a partition stream (`orders` for `orders:{3}`). */
function logicalStream(stream: string, partition: number): string {
  const suffix = `:{${partition}}`;
  return stream.endsWith(suffix) ? stream.slice(0, -suffix.length) : stream;
}

/**
 * Leased partitions' metrics (`assignment: 'leased'`): `partition_lease_changes_total`, counted from
 * the runtime's `partition.lease` events (labelled `stream`: the partition's stream, `group`,
 * `consumer`, `change`: acquired, released or lost), and the gauge `partitions_owned` (labelled
 * `stream`: the logical stream, `group`, `consumer`): how many of its partitions this runtime holds.
 * Returns a function that stops counting.
 */
export function leaseMetrics(
  prefix: string,
  registry: Registry,
  snapshot: () => RuntimeSnapshot,
  consumers: readonly { id: string; group: string; consumer: string; lease?: { owner: string } }[],
  subscribe: ((listener: (event: RuntimeEvent) => void) => () => void) | undefined,
): () => void {
  const registers = [registry];
  const changes = new Counter({
    name: `${prefix}partition_lease_changes_total`,
    help: 'Leased partitions acquired, released (handed over, or on stop) or lost (fenced) by this runtime, since the metrics were created.',
    labelNames: ['stream', 'group', 'consumer', 'change'],
    registers,
  });
  new Gauge({
    name: `${prefix}partitions_owned`,
    help: 'Leased partitions this runtime owns now, by logical stream.',
    labelNames: ['stream', 'group', 'consumer'],
    registers,
    collect() {
      this.reset();
      const { consumers, partitions = [] } = snapshot();
      const owned = new Map<string, { labels: Labels; n: number }>();
      for (const p of partitions) {
        const c = consumers.find((consumer) => consumer.id === p.consumerId);
        if (!c) continue;
        const labels = { stream: logicalStream(p.stream, p.partition), group: p.group, consumer: c.consumer };
        const key = JSON.stringify(labels);
        const entry = owned.get(key) ?? { labels, n: 0 };
        if (p.mine) entry.n++;
        owned.set(key, entry);
      }
      for (const { labels, n } of owned.values()) this.set(labels, n);
    },
  });
  if (subscribe === undefined) return () => {};
  return subscribe((event) => {
    if (event.type !== 'partition.lease') return;
    const spec = consumers.find((c) => c.id === event.consumerId);
    changes.inc({
      stream: event.stream,
      group: spec?.group ?? '',
      // As the snapshot names a leased partition's consumer: the runtime's consumer name.
      consumer: spec?.lease?.owner ?? spec?.consumer ?? '',
      change: event.change,
    });
  });
}
