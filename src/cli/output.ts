import Table from 'cli-table3';

/**
 * Write one line to stdout.
 *
 * @example
 * line('published 1700000000000-0')
 */
export function line(text = ''): void {
  process.stdout.write(`${text}\n`);
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
 * Render rows as a plain table (no colours, so it reads the same in a pipe).
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
  for (const row of rows) rendered.push(row.map(String));
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
