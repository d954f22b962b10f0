import type { AnyActorRef, Subscription } from 'xstate';

/** States between which a consumer moves once per batch: not logged or reported one by one. */
const BUSY_STATES = new Set(['polling', 'dispatching']);

/**
 * Follows the state of every consumer actor the supervisor runs (a restart brings a new actor under
 * the same id) and reports each lifecycle change once; the per-batch loop between `polling` and
 * `dispatching` is not reported.
 */
export class ConsumerStates {
  #subs = new Map<string, { ref: AnyActorRef; sub: Subscription | null; state: string | null }>();
  #onChange: (id: string, state: string, previous: string | null, busy: boolean) => void;

  /** `busy`: a move within the per-batch loop (callers skip logging it). */
  constructor(onChange: (id: string, state: string, previous: string | null, busy: boolean) => void) {
    this.#onChange = onChange;
  }

  /** The supervisor's children changed (or may have): subscribe to the new ones. */
  track(children: Record<string, AnyActorRef | undefined>): void {
    for (const [id, ref] of Object.entries(children)) {
      if (!ref) continue;
      const known = this.#subs.get(id);
      if (known?.ref === ref) continue;
      known?.sub?.unsubscribe();
      const entry: { ref: AnyActorRef; sub: Subscription | null; state: string | null } = {
        ref,
        sub: null,
        state: null,
      };
      this.#subs.set(id, entry);
      entry.sub = ref.subscribe((snapshot: { value: unknown }) => {
        const state = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
        if (state === entry.state) return;
        const previous = entry.state;
        entry.state = state;
        const busy = BUSY_STATES.has(state) && (previous === null || BUSY_STATES.has(previous));
        this.#onChange(id, state, previous, busy);
      });
    }
  }

  close(): void {
    for (const { sub } of this.#subs.values()) sub?.unsubscribe();
    this.#subs.clear();
  }
}
