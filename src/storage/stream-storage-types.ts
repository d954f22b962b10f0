/**
 * What callers pass to `StreamStorage` (stream-storage.ts): entry fields, the options of its methods,
 * and the writes of `deadLetter`, `copyEntry` and `ackAndAdd`. Re-exported by stream-storage.ts.
 */

/** Field/value pairs of a stream entry. Values are strings (Redis stores bytes; see the wire format). */
export type StreamFields = Record<string, string>;

/** Options of `deleteIdleConsumers`. */
export interface DeleteIdleConsumersOptions {
  /** Only consumers idle at least this long (ms, ≥ 0) are removed. */
  readonly minIdleMs: number;
  /** A consumer name never removed (the caller's own). */
  readonly keep?: string;
}

export interface ReadGroupOptions {
  /** Maximum entries to return, ≥ 1. */
  count: number;
  /**
   * Block up to this many milliseconds (≥ 1) waiting for new entries. Omitted: return at once.
   * Redis' `BLOCK 0` (wait forever) is deliberately not offered.
   */
  blockMs?: number;
}

export interface AutoClaimOptions {
  /** Only claim entries idle at least this long (ms, ≥ 0). */
  minIdleMs: number;
  /** Entries to examine in this page, ≥ 1. */
  count: number;
  /** Where to start; `'0-0'` (default) starts a new walk. */
  cursor?: string;
}

export interface PendingOptions {
  count: number;
  /** Only this consumer's entries. */
  consumer?: string;
  /** Smallest id (inclusive, default `-`). Prefix `(` for exclusive. */
  start?: string;
  /** Largest id (inclusive, default `+`). */
  end?: string;
  /** Only entries idle at least this long (ms). */
  minIdleMs?: number;
}

export interface AddOptions {
  /**
   * Trim the stream to about this many entries (`MAXLEN ~`), ≥ 1: whole radix-tree nodes go, so at
   * least `maxLen` entries stay and a stream shorter than a node (100 entries by default) is not
   * trimmed. `MemoryStreamStorage` trims the same way.
   */
  maxLen?: number;
}

export interface RangeOptions {
  /** Smallest id (inclusive, default `-`). Prefix `(` for exclusive. */
  start?: string;
  /** Largest id (inclusive, default `+`). */
  end?: string;
  /** Maximum entries, ≥ 1. Omitted: all. */
  count?: number;
}

/** A message moved to a dead-letter stream. `fields` are the dead-letter entry's fields as written. */
export interface DeadLetterWrite {
  /** The dead-letter stream, e.g. `orders:dead`. */
  readonly deadStream: string;
  /** The stream the message came from; it is acked there in `group`. */
  readonly sourceStream: string;
  readonly group: string;
  /** The source entry id to acknowledge. */
  readonly id: string;
  /** Original fields plus the `x-dead-*` headers (docs/contract.md, "Wire format"). */
  readonly fields: StreamFields;
  /** Trim the dead-letter stream to about this many entries. */
  readonly maxLen?: number;
  /**
   * The headers `fields` adds to the source entry's fields. With them, a storage of bytes writes the
   * source entry's own bytes (then these) where `fields` may not hold them (a field read as U+FFFD).
   */
  readonly headers?: StreamFields;
}

/** Options of `copyEntry`. */
export interface CopyEntryOptions {
  /** Fields of the source entry not copied. */
  readonly omit?: readonly string[];
  /** Fields added after the copied ones (a source field of the same name is not copied). */
  readonly fields?: StreamFields;
}

/** One entry to add with `ackAndAdd`: `XADD stream [MAXLEN ~ maxLen] * …fields`. */
export interface EntryWrite {
  readonly stream: string;
  readonly fields: StreamFields;
  /** Trim `stream` to about this many entries (`MAXLEN ~`), ≥ 1. @default unbounded */
  readonly maxLen?: number;
}
