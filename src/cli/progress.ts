import { SingleBar } from 'cli-progress';

/** Operations on more items than this get a progress bar (on a terminal). */
const PROGRESS_THRESHOLD = 100;

/** A progress callback and a `stop()`; a no-op when there is no terminal or few items. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar on stdout for `total` items, shown only when stdout is a terminal, `total` exceeds
 * `PROGRESS_THRESHOLD` and `enabled` is true (false for `--json`).
 *
 * @example
 * const progress = startProgress('replaying', letters.length, !options.json)
 * await replayDeadLetters(storage, dead, letters, stream, (done) => progress.update(done))
 * progress.stop()
 */
export function startProgress(label: string, total: number, enabled: boolean): Progress {
  if (!enabled || total <= PROGRESS_THRESHOLD || !process.stdout.isTTY) {
    return { update: () => {}, stop: () => {} };
  }
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
    stream: process.stdout,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
