// The types of `StreamStorage.rangePreview` (no imports: stream-storage.ts imports them).

/** Options of `StreamStorage.rangePreview`: an XRANGE whose entries are cut to a bounded size. */
export interface RangePreviewOptions {
  /** Smallest id (inclusive, default `-`). Prefix `(` for exclusive. */
  start?: string;
  /** Largest id (inclusive, default `+`). */
  end?: string;
  /** Maximum entries, ≥ 1. Omitted: all. */
  count?: number;
  /**
   * Longest value returned, in UTF-8 bytes (integer ≥ 1): a longer value is cut at a character
   * boundary at or below this many bytes, and its full length is reported in `truncated`. A field
   * whose *name* is longer is left out (counted in `omittedFields`).
   */
  maxValueBytes: number;
  /**
   * At most this many fields per entry besides those in `keep` (integer ≥ 0); the others are left
   * out and counted in `omittedFields`. @default 32 (`PREVIEW_MAX_FIELDS`)
   */
  maxFields?: number;
  /** Field names returned whenever the entry has them, whatever `maxFields` (their values are cut too). */
  keep?: readonly string[];
}

/** One entry of `rangePreview`: its id, its true size, and its fields cut to the preview's bounds. */
export interface PreviewEntry {
  readonly id: string;
  /** UTF-8 bytes of the whole entry: every field name and value, before any cut. */
  readonly bytes: number;
  /** The fields returned, values cut to `maxValueBytes`. */
  readonly fields: Readonly<Record<string, string>>;
  /** The fields whose value was cut, with the value's full length in bytes; `{}` when none was. */
  readonly truncated: Readonly<Record<string, number>>;
  /** How many fields of the entry are not in `fields` (over `maxFields`, or a name over `maxValueBytes`). */
  readonly omittedFields: number;
}
