import type { DeadReason } from '../machines/dispatch-worker-machine.js';
import type { StreamEntry, StreamFields } from '../storage/stream-storage.js';

export interface DeadLetterInfo {
  reason: DeadReason;
  error: string;
  sourceStream: string;
  group: string;
  deliveries: number;
  at: number;
}

/**
 * Longest `x-dead-error`, characters (a longer error text is cut to this length, its last character
 * an ellipsis): error texts can be huge (stack traces, payload dumps).
 */
export const MAX_ERROR_LENGTH = 4096;

/**
 * The fields of a dead-letter entry (docs/contract.md, "Wire format"): the original fields plus `x-dead-reason`,
 * `x-dead-error`, `x-source-stream`, `x-source-id`, `x-group`, `x-deliveries`, `x-dead-at`.
 *
 * @example
 * deadLetterFields(entry, { reason: 'handler-error', error: 'boom', sourceStream: 'orders', group: 'g', deliveries: 3, at: Date.now() })
 */
export function deadLetterFields(entry: StreamEntry, info: DeadLetterInfo): StreamFields {
  return { ...entry.fields, ...deadLetterHeaders(entry, info) };
}

/**
 * The `x-dead-*` headers alone (see `deadLetterFields`): a storage of bytes copies the original
 * fields from the source entry itself when they were not read as written (`DeadLetterWrite.headers`).
 *
 * @example
 * deadLetterHeaders(entry, { reason: 'malformed-encoding', error: 'not UTF-8', sourceStream: 'orders', group: 'g', deliveries: 1, at: Date.now() })
 */
export function deadLetterHeaders(entry: StreamEntry, info: DeadLetterInfo): StreamFields {
  return {
    'x-dead-reason': info.reason,
    'x-dead-error':
      info.error.length > MAX_ERROR_LENGTH ? `${info.error.slice(0, MAX_ERROR_LENGTH - 1)}…` : info.error,
    'x-source-stream': info.sourceStream,
    'x-source-id': entry.id,
    'x-group': info.group,
    'x-deliveries': String(info.deliveries),
    'x-dead-at': String(info.at),
  };
}
