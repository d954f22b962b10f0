/** What Redis says about a drain: done, and a state string that changes while it progresses. */
export interface SettleState {
  done: boolean;
  /** Entries (or jobs) still pending or unfinished in Redis. */
  pending: number;
  /** Any change means progress (e.g. `last-delivered-id/pending`). */
  state: string;
}

/**
 * Waits until Redis says the drain is over (`query().done`); the clock stops when this resolves.
 * While the in-process count `handled()` is below `expected`, only that count is watched (no Redis
 * traffic of ours during the drain); from then on Redis is asked every millisecond. A handler count
 * is a hint, never the stop: a runtime that ran every handler but left entries unacked is not done.
 *
 * Rejects when `handled()` does not move for `stallMs` (a hung consumer), or when Redis' state does
 * not move for `settleMs` after every message was handled (messages left pending: the case fails).
 */
export async function waitSettled(options: {
  expected: number;
  handled: () => number;
  query: () => Promise<SettleState>;
  what: string;
  stallMs?: number;
  settleMs?: number;
}): Promise<void> {
  const stallMs = options.stallMs ?? 30_000;
  const settleMs = options.settleMs ?? 5_000;
  let last = options.handled();
  let lastMove = performance.now();
  while (last < options.expected) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const now = options.handled();
    if (now !== last) {
      last = now;
      lastMove = performance.now();
    } else if (performance.now() - lastMove > stallMs) {
      const redis = await options.query();
      throw new Error(
        `${options.what}: handled ${now} of ${options.expected}, no progress for ${stallMs} ms ` +
          `(${redis.pending} pending in Redis)`,
      );
    }
  }
  let state = await options.query();
  let stateSince = performance.now();
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const next = await options.query();
    if (next.state !== state.state) stateSince = performance.now();
    else if (performance.now() - stateSince > settleMs) {
      throw new Error(
        `${options.what}: ${next.pending} left pending in Redis ${settleMs} ms after every message was handled`,
      );
    }
    state = next;
  }
}
