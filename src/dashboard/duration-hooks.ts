import type { ConsumerStats } from '../actors/consumer-stats.js';

/** What `ConsumerStats.onHandlerDuration` is called with: one handler call's duration, type and success. */
export type DurationHook = (ms: number, type: string, ok: boolean) => void;

/** Several watchers (the Prometheus histogram, the dashboard's per-type tally) share one hook per stats. */
const durationHooks = new WeakMap<ConsumerStats, Set<DurationHook>>();

/**
 * Add `hook` to the handler calls of `stats`; returns the function that removes it. One or two
 * hooks (the usual cases: metrics, metrics + dashboard) are called directly: no iterator per message.
 */
export function watchDurations(stats: ConsumerStats, hook: DurationHook): () => void {
  let hooks = durationHooks.get(stats);
  if (!hooks) {
    hooks = new Set<DurationHook>();
    durationHooks.set(stats, hooks);
  }
  const set = hooks;
  const install = (): void => {
    const [first, second, third] = set;
    if (third !== undefined) {
      stats.onHandlerDuration = (ms, type, ok) => {
        for (const h of set) h(ms, type, ok);
      };
    } else if (first !== undefined && second !== undefined) {
      stats.onHandlerDuration = (ms, type, ok) => {
        first(ms, type, ok);
        second(ms, type, ok);
      };
    } else {
      stats.onHandlerDuration = first;
    }
  };
  set.add(hook);
  install();
  return () => {
    set.delete(hook);
    install();
    if (set.size === 0) durationHooks.delete(stats);
  };
}
