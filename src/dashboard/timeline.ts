/**
 * The dashboard's timeline: lifecycle events of the runtime (restarts, NOGROUP healing, backoff,
 * exits), retries and dead letters turned into short entries, buffered between flushes and kept for
 * new pages in one ring per kind, so a storm of dead letters never pushes a restart out. Per-message
 * failure events are capped per flush, so a poison storm costs a few lines, not a line per message.
 */
import type { RuntimeEvent } from '../actors/runtime-events.js';

export interface TimelineEntry {
  /** ms since epoch. */
  at: number;
  kind: string;
  consumerId: string | null;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** Dead letters (or retries) shown one by one per consumer per flush; the rest are summed. */
const PER_FLUSH_MESSAGES = 3;

/** The kinds the page filters by, each kept in its own ring. */
export type TimelineGroup = 'lifecycle' | 'retries' | 'dead';

export function groupOf(kind: string): TimelineGroup {
  if (kind === 'message.dead-lettered') return 'dead';
  if (kind === 'message.retrying' || kind === 'message.scheduled') return 'retries';
  return 'lifecycle';
}

/** The message events summed up past `PER_FLUSH_MESSAGES` per consumer and flush. */
type Summed = 'message.dead-lettered' | 'message.scheduled' | 'message.retrying';

const SUMMARY: Record<Summed, { what: string; level: TimelineEntry['level'] }> = {
  'message.dead-lettered': { what: 'dead letters', level: 'error' },
  'message.scheduled': { what: 'durable retries', level: 'warn' },
  'message.retrying': { what: 'retries', level: 'warn' },
};

export class Timeline {
  #rings: Record<TimelineGroup, TimelineEntry[]> = { lifecycle: [], retries: [], dead: [] };
  #pending: TimelineEntry[] = [];
  #overflow = new Map<string, { at: number; consumerId: string; kind: Summed; count: number }>();
  #shown = new Map<string, number>();
  #lastExit = new Map<string, string>();
  #size: number;

  /** `size`: entries kept per kind. */
  constructor(size = 200) {
    this.#size = size;
  }

  /** The entries kept (every kind), oldest first. */
  recent(): TimelineEntry[] {
    const { lifecycle, retries, dead } = this.#rings;
    return [...lifecycle, ...retries, ...dead].sort((a, b) => a.at - b.at);
  }

  /** Record a runtime event (cheap: called synchronously by the runtime). */
  add(event: RuntimeEvent): void {
    if (
      event.type === 'message.dead-lettered' ||
      event.type === 'message.scheduled' ||
      event.type === 'message.retrying'
    ) {
      const key = `${event.type}\u0000${event.consumerId}`;
      const shown = this.#shown.get(key) ?? 0;
      if (shown >= PER_FLUSH_MESSAGES) {
        const over = this.#overflow.get(key);
        if (over) {
          over.count++;
          over.at = event.at;
        } else {
          this.#overflow.set(key, {
            at: event.at,
            consumerId: event.consumerId,
            kind: event.type,
            count: 1,
          });
        }
        return;
      }
      this.#shown.set(key, shown + 1);
    }
    const entry = describe(event, this.#lastExit);
    if (entry) this.#pending.push(entry);
  }

  /** Entries recorded since the last flush (summaries included), also appended to the ring. */
  flush(): TimelineEntry[] {
    for (const over of this.#overflow.values()) {
      const { what, level } = SUMMARY[over.kind];
      this.#pending.push({
        at: over.at,
        kind: over.kind,
        consumerId: over.consumerId,
        level,
        text: `+${over.count} more ${what}`,
      });
    }
    this.#overflow.clear();
    this.#shown.clear();
    const out = this.#pending;
    this.#pending = [];
    for (const entry of out) {
      const ring = this.#rings[groupOf(entry.kind)];
      ring.push(entry);
      if (ring.length > this.#size) ring.splice(0, ring.length - this.#size);
    }
    return out;
  }
}

function describe(event: RuntimeEvent, lastExit: Map<string, string>): TimelineEntry | null {
  const base = {
    at: event.at,
    kind: event.type,
    consumerId: 'consumerId' in event ? event.consumerId : null,
  };
  switch (event.type) {
    case 'runtime.started':
      return { ...base, level: 'info', text: 'runtime started' };
    case 'runtime.stopping':
      return { ...base, level: 'info', text: 'runtime stopping' };
    case 'runtime.stopped':
      return { ...base, level: 'info', text: 'runtime stopped' };
    case 'runtime.failed':
      return { ...base, level: 'error', text: `runtime failed: ${event.error}` };
    case 'consumer.state':
      // Restart, heal and backoff have their own entries; only the drain is worth a line of its own.
      return event.state === 'draining' ? { ...base, level: 'info', text: 'draining' } : null;
    case 'consumer.group-created': {
      const healed = lastExit.get(event.consumerId) === 'nogroup';
      lastExit.delete(event.consumerId);
      return healed
        ? { ...base, level: 'warn', text: `NOGROUP healed: group recreated at ${event.startId}` }
        : { ...base, level: 'info', text: `group ready at ${event.startId}` };
    }
    case 'consumer.group-rewound':
      return {
        ...base,
        level: 'warn',
        text: `group recreated at 0, not at ${event.lastSeenId}: stream ${event.streamEmpty ? 'empty' : 'ids went backwards'}`,
      };
    case 'consumer.backoff':
      return {
        ...base,
        level: 'warn',
        text: `backoff #${event.attempt}${event.error ? `: ${event.error}` : ''}`,
      };
    case 'consumer.exited':
      lastExit.set(event.consumerId, event.reason);
      if (event.reason === 'stopped') return { ...base, level: 'info', text: 'stopped' };
      return {
        ...base,
        level: 'error',
        text: `exited (${event.reason})${event.error ? `: ${event.error}` : ''}`,
      };
    case 'consumer.restarting':
      return { ...base, level: 'warn', text: `restart #${event.attempt} scheduled (${event.reason})` };
    case 'consumer.restarted':
      return { ...base, level: 'warn', text: `restarted (${event.reason}), ${event.restarts} so far` };
    case 'message.dead-lettered':
      return {
        ...base,
        level: 'error',
        text: `dead letter ${event.messageId} (${event.reason}): ${event.error}`,
      };
    case 'message.dead-letter-failed':
      return {
        ...base,
        level: 'error',
        text: `dead letter ${event.messageId} (${event.reason}) not written: ${event.failure}`,
      };
    case 'partition.lease':
      return {
        ...base,
        level: event.change === 'lost' ? 'warn' : 'info',
        text: `partition ${event.partition} lease ${event.change} by ${event.owner}`,
      };
    case 'message.scheduled':
      return { ...base, level: 'warn', text: `durable retry ${event.messageId}, attempt ${event.attempt}` };
    case 'message.retrying':
      return {
        ...base,
        level: 'warn',
        text: `retry ${event.messageId}: attempt ${event.attempt} failed, next in ${event.delayMs} ms: ${event.error}`,
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}
