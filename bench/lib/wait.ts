/**
 * Resolves when `done()` is true; polls every `everyMs`. Rejects when `progress()` has not moved
 * for `stallMs` (a hung consumer must fail the case, not the whole run).
 */
export async function waitUntil(
  done: () => boolean,
  options: { progress: () => number; stallMs?: number; everyMs?: number; what: string },
): Promise<void> {
  const stallMs = options.stallMs ?? 30_000;
  const everyMs = options.everyMs ?? 1;
  let last = options.progress();
  let lastMove = performance.now();
  while (!done()) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    const now = options.progress();
    if (now !== last) {
      last = now;
      lastMove = performance.now();
    } else if (performance.now() - lastMove > stallMs) {
      throw new Error(`${options.what}: no progress for ${stallMs} ms (stuck at ${now})`);
    }
  }
}

/** Runs `global.gc` (the runner guarantees `--expose-gc`) a few times so the heap settles. */
export async function settleHeap(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('global.gc is missing: run with --expose-gc');
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
