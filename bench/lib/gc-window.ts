import { constants, PerformanceObserver } from 'node:perf_hooks';

/**
 * The garbage collections of one timed window, from Node's `gc` performance entries (no V8 flag
 * needed): how many scavenges (young generation) and mark-compacts (old generation), and their total
 * pause. A latency row carries them, so a pickup tail can be read against the pauses behind it.
 */
export class GcWindow {
  #scavenges = 0;
  #scavengeMs = 0;
  #markCompacts = 0;
  #markCompactMs = 0;
  readonly #observer = new PerformanceObserver((list) => this.#add(list.getEntries()));

  start(): void {
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Ends the window: the figures, as a row's `extra` fields. */
  stop(): Record<string, number> {
    this.#add(this.#observer.takeRecords());
    this.#observer.disconnect();
    return {
      scavenges: this.#scavenges,
      'scavenge pause ms': Math.round(this.#scavengeMs),
      'mark-compacts': this.#markCompacts,
      'mark-compact pause ms': Math.round(this.#markCompactMs),
    };
  }

  #add(entries: readonly PerformanceEntry[]): void {
    for (const entry of entries) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        this.#scavenges++;
        this.#scavengeMs += entry.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        this.#markCompacts++;
        this.#markCompactMs += entry.duration;
      }
    }
  }
}
