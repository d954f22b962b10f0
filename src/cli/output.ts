import Table from 'cli-table3';

// C0 controls, DEL and C1 controls: ESC and BEL retitle a terminal, clear it or paint fake text,
// and C1's CSI (U+009B) does the same alone on some terminals.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * Make producer-controlled text safe for a terminal: every control character (C0, DEL, C1) becomes
 * a visible escape (`\x1b`, `\x07`, `\n`), so a message field cannot retitle the terminal, clear it
 * or paint fake output. `keepLines` keeps `\n` and `\t` (for text this CLI lays out itself).
 * JSON output (`--json`) is never passed through this: it stays exact.
 *
 * @example
 * escapeControls('\x1b]0;pwned\x07') // '\\x1b]0;pwned\\x07'
 */
export function escapeControls(text: string, keepLines = false): string {
  return text.replace(keepLines ? CONTROLS_BUT_LINES : CONTROLS, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code < 0x80
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Write one line of human-readable text to stdout, its control characters escaped (newlines and tabs
 * kept: see `escapeControls`). For JSON, use `printJson` or `jsonLine`.
 *
 * @example
 * line('published 1700000000000-0')
 */
export function line(text = ''): void {
  process.stdout.write(`${escapeControls(text, true)}\n`);
}

/**
 * Write one compact JSON document on one line to stdout, exactly as `JSON.stringify` gives it.
 *
 * @example
 * jsonLine({ stream: 'orders', id: '1-0' })
 */
export function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * Write a value as JSON to stdout (pretty-printed, one document).
 *
 * @example
 * printJson([{ id: '1-0' }])
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Render rows as a plain table (no colours, so it reads the same in a pipe). Cells are escaped
 * (`escapeControls`, newlines too), so widths are right and a cell stays on its row.
 *
 * @example
 * line(table(['Stream', 'Length'], [['orders', 12]]))
 */
export function table(head: string[], rows: (string | number)[][]): string {
  const rendered = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) rendered.push(row.map((cell) => escapeControls(String(cell))));
  return rendered.toString();
}

/**
 * A duration for humans: `850ms`, `12.3s`, `4m 05s`, `3h 20m`, `2d 4h`. `null` renders as `-`.
 *
 * @example
 * formatDuration(65_000) // '1m 05s'
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * A size for humans: `512 B`, `1.5 KiB`, `8.0 MiB`.
 *
 * @example
 * formatBytes(8 * 1024 * 1024) // '8.0 MiB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Shorten text to `max` characters (an ellipsis marks the cut) and fold it onto one line.
 *
 * @example
 * truncate('a very long error message', 10) // 'a very lo…'
 */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Resolve once everything written to stdout and stderr so far has been handed to the OS, so that
 * `process.exit` right after loses no output (pipes are asynchronous on some platforms).
 *
 * @example
 * await flushOutput(); process.exit(code)
 */
export function flushOutput(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.writableEnded || stream.destroyed) resolve();
      else stream.write('', () => resolve());
    });
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}

/**
 * Make a closed stdout (`streamvisor … | head`) end the command quietly with exit code 0, as Unix
 * tools do on SIGPIPE, instead of an unhandled `EPIPE` error with a stack trace. A closed stderr is
 * ignored: the command still ends with its own exit code. Call once, before anything is written.
 *
 * @example
 * exitQuietlyOnClosedPipe(); const code = await run(process.argv)
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    throw error;
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}
