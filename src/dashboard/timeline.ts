/**
 * The dashboard's timeline: lifecycle events of the runtime (restarts, NOGROUP healing, backoff,
 * exits, dead letters) turned into short entries, buffered between flushes and kept in a ring for
 * new pages. Per-message failure events are capped per flush, so a poison storm costs a line, not a
 * line per message.
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

/** Dead letters (or durable retries) shown one by one per consumer per flush; the rest are summed. */
const PER_FLUSH_MESSAGES = 3;

export class Timeline {
  #ring: TimelineEntry[] = [];
  #pending: TimelineEntry[] = [];
  #overflow = new Map<string, { at: number; consumerId: string; kind: string; count: number }>();
  #shown = new Map<string, number>();
  #lastExit = new Map<string, string>();
  #size: number;

  constructor(size = 200) {
    this.#size = size;
  }

  /** The entries kept, oldest first. */
  recent(): TimelineEntry[] {
    return [...this.#ring];
  }

  /** Record a runtime event (cheap: called synchronously by the runtime). */
  add(event: RuntimeEvent): void {
    if (event.type === 'message.dead-lettered' || event.type === 'message.scheduled') {
      const key = `${event.type}\u0000${event.consumerId}`;
      const shown = this.#shown.get(key) ?? 0;
      if (shown >= PER_FLUSH_MESSAGES) {
        const over = this.#overflow.get(key);
        if (over) {
          over.count++;
          over.at = event.at;
        } else {
          this.#overflow.set(key, { at: event.at, consumerId: event.consumerId, kind: event.type, count: 1 });
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
      const what = over.kind === 'message.dead-lettered' ? 'dead letters' : 'durable retries';
      this.#pending.push({
        at: over.at,
        kind: over.kind,
        consumerId: over.consumerId,
        level: over.kind === 'message.dead-lettered' ? 'error' : 'warn',
        text: `+${over.count} more ${what}`,
      });
    }
    this.#overflow.clear();
    this.#shown.clear();
    const out = this.#pending;
    this.#pending = [];
    this.#ring.push(...out);
    if (this.#ring.length > this.#size) this.#ring.splice(0, this.#ring.length - this.#size);
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
    case 'message.scheduled':
      return { ...base, level: 'warn', text: `durable retry ${event.messageId}, attempt ${event.attempt}` };
    case 'message.retrying':
      return null;
    default: {
      const never: never = event;
      return never;
    }
  }
}
