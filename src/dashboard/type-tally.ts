/**
 * The dashboard's breakdown by message type, per consumer: successful handler calls, messages retried,
 * messages dead-lettered, and handler time percentiles. Fed by the handler duration hook (one array
 * increment per call) and the runtime's failure events (`message.retrying`, `message.scheduled`,
 * `message.dead-lettered`); counts start when the dashboard starts.
 */
import type { RuntimeEvent } from '../actors/runtime-events.js';
import type { DurationHook } from './duration-hooks.js';

/** One type's numbers as the page shows them (`p50`, `p99`: handler time per call, ms). */
export interface TypeRow {
  type: string;
  handled: number;
  retried: number;
  deadLettered: number;
  p50: number | null;
  p99: number | null;
}

interface TypeCounts {
  handled: number;
  retried: number;
  deadLettered: number;
  calls: number;
  /** Handler calls per duration bucket: bucket i holds (BASE_MS·FACTOR^(i-1), BASE_MS·FACTOR^i]. */
  buckets: Float64Array;
}

/** Types beyond this many per consumer are summed under OTHER (a producer may invent types freely). */
const MAX_TYPES = 100;
const OTHER = '(other types)';
const UNDECODED = '(undecoded)';
const BASE_MS = 0.01;
const FACTOR = 1.25; // percentiles within 25%
const BUCKETS = 80; // up to 0.01 ms · 1.25^79 ≈ 7 min
const LOG_FACTOR = Math.log(FACTOR);

export class TypeTally {
  #byConsumer = new Map<string, Map<string, TypeCounts>>();
  #retriedMessages = new Map<string, number>();

  /** The duration hook of one consumer (watchDurations). */
  hook(consumerId: string): DurationHook {
    const types = this.#types(consumerId);
    return (ms, type, ok) => {
      const counts = types.get(type) ?? this.#entry(types, type);
      if (ok) counts.handled++;
      counts.calls++;
      const i = ms <= BASE_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / LOG_FACTOR));
      counts.buckets[i] = (counts.buckets[i] ?? 0) + 1;
    };
  }

  /** Count a runtime event: a message retried (once per delivery) or dead-lettered. */
  add(event: RuntimeEvent): void {
    if (event.type === 'message.dead-lettered') {
      const types = this.#types(event.consumerId);
      this.#entry(types, event.messageType ?? UNDECODED).deadLettered++;
      return;
    }
    // The first failed attempt of a delivery retried in process, or (with no retry in process
    // before it) handed to the durable retry scheduler: either way, one more message retried.
    if ((event.type === 'message.retrying' || event.type === 'message.scheduled') && event.attempt === 1) {
      const types = this.#types(event.consumerId);
      this.#entry(types, event.messageType ?? UNDECODED).retried++;
      this.#retriedMessages.set(event.consumerId, (this.#retriedMessages.get(event.consumerId) ?? 0) + 1);
    }
  }

  /** Messages of `consumerId` retried after a failed attempt, since the dashboard started. */
  retriedMessages(consumerId: string): number {
    return this.#retriedMessages.get(consumerId) ?? 0;
  }

  /** The `limit` busiest types of `consumerId` (handled + retried + dead-lettered), busiest first. */
  top(consumerId: string, limit = 5): TypeRow[] {
    const types = this.#byConsumer.get(consumerId);
    if (!types) return [];
    return [...types]
      .map(([type, c]) => ({
        type,
        handled: c.handled,
        retried: c.retried,
        deadLettered: c.deadLettered,
        p50: percentile(c, 0.5),
        p99: percentile(c, 0.99),
      }))
      .sort((a, b) => b.handled + b.retried + b.deadLettered - (a.handled + a.retried + a.deadLettered))
      .slice(0, limit);
  }

  #types(consumerId: string): Map<string, TypeCounts> {
    let types = this.#byConsumer.get(consumerId);
    if (!types) {
      types = new Map();
      this.#byConsumer.set(consumerId, types);
    }
    return types;
  }

  #entry(types: Map<string, TypeCounts>, type: string): TypeCounts {
    let counts = types.get(type);
    if (counts) return counts;
    if (types.size >= MAX_TYPES && type !== OTHER) return this.#entry(types, OTHER);
    counts = { handled: 0, retried: 0, deadLettered: 0, calls: 0, buckets: new Float64Array(BUCKETS) };
    types.set(type, counts);
    return counts;
  }
}

/** The upper bound of the bucket where the `q` quantile of the calls falls (ms, 3 significant digits). */
function percentile(counts: TypeCounts, q: number): number | null {
  if (counts.calls === 0) return null;
  const rank = Math.max(1, Math.ceil(counts.calls * q));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += counts.buckets[i] ?? 0;
    if (seen >= rank) return Number((BASE_MS * FACTOR ** i).toPrecision(3));
  }
  return null;
}
