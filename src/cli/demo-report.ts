import type { RuntimeEvent, RuntimeSnapshot } from '../index.js';

/** Seconds since `startedAt`, as `[  12.3s]`. */
export function stamp(startedAt: number, now = Date.now()): string {
  return `[${((now - startedAt) / 1000).toFixed(1).padStart(6)}s]`;
}

/**
 * A line for the runtime events a person watching the demo cares about (lifecycle, healing, dead
 * letters); `null` for the rest (retries are counted in the progress line instead).
 *
 * @example
 * describeEvent({ type: 'consumer.restarted', at: 0, consumerId: 'demo-1', reason: 'nogroup', restarts: 1 })
 */
export function describeEvent(event: RuntimeEvent): string | null {
  switch (event.type) {
    case 'runtime.started':
      return 'runtime started';
    case 'runtime.stopping':
      return 'runtime stopping: finishing in-flight messages';
    case 'runtime.stopped':
      return 'runtime stopped';
    case 'runtime.failed':
      return `runtime FAILED: ${event.error}`;
    case 'consumer.state':
      return `${event.consumerId}: ${event.previous ?? '(new)'} → ${event.state}`;
    case 'consumer.group-created':
      return `${event.consumerId}: created the group at ${event.startId}`;
    case 'consumer.group-rewound':
      return `${event.consumerId}: created the group at 0, not at the last id seen ${event.lastSeenId} (stream ${event.streamEmpty ? 'empty' : 'ids went backwards'})`;
    case 'consumer.backoff':
      return `${event.consumerId}: connection trouble, backing off (attempt ${event.attempt}): ${event.error ?? ''}`;
    case 'consumer.exited':
      return `${event.consumerId}: exited (${event.reason})${event.error ? `: ${event.error}` : ''}`;
    case 'consumer.restarting':
      return `${event.consumerId}: supervisor restarts it (reason ${event.reason}, attempt ${event.attempt})`;
    case 'consumer.restarted':
      return `${event.consumerId}: restarted (reason ${event.reason}, restarts so far ${event.restarts})`;
    case 'message.dead-lettered':
      return `${event.consumerId}: dead-lettered ${event.messageId} (${event.reason}): ${event.error}`;
    case 'message.dead-letter-failed':
      return `${event.consumerId}: could not dead-letter ${event.messageId} (${event.reason}): ${event.failure}`;
    case 'partition.lease':
      return `${event.consumerId}: partition ${event.partition} lease ${event.change} (${event.owner})`;
    case 'message.retrying':
    case 'message.scheduled':
      return null;
    default: {
      const never: never = event;
      return String(never);
    }
  }
}

/** Totals over every consumer of a snapshot. */
export interface DemoTotals {
  processed: number;
  retried: number;
  deadLettered: number;
  restarts: number;
  states: string;
}

/**
 * Sum the counters of every consumer, and list their states.
 *
 * @example
 * totals(runtime.snapshot()).processed
 */
export function totals(snapshot: RuntimeSnapshot): DemoTotals {
  let processed = 0;
  let retried = 0;
  let deadLettered = 0;
  let restarts = 0;
  const states: string[] = [];
  for (const c of snapshot.consumers) {
    processed += c.processed;
    retried += c.retried;
    deadLettered += c.deadLettered;
    restarts += c.restarts;
    states.push(`${c.consumer} ${c.state}`);
  }
  return { processed, retried, deadLettered, restarts, states: states.join(', ') };
}

/**
 * The once-a-second progress line.
 *
 * @example
 * progressLine({ produced: 100, now: totals(snap), ratePerSecond: 49.5, pending: 3 })
 */
export function progressLine(input: {
  produced: number;
  now: DemoTotals;
  ratePerSecond: number;
  pending: number | null;
}): string {
  const { produced, now, ratePerSecond, pending } = input;
  return [
    `produced ${produced}`,
    `processed ${now.processed} (${ratePerSecond.toFixed(1)} msg/s)`,
    `pending ${pending ?? '?'}`,
    `retried ${now.retried}`,
    `dead-lettered ${now.deadLettered}`,
    `restarts ${now.restarts}`,
    `| ${now.states}`,
  ].join('  ');
}
