/** Messages run per turn of the event loop before a busy period yields to I/O (see `TurnBudget`). */
export const TURN_BUDGET = 64;

/**
 * The messages a worker pool ran in this turn of the event loop. Without a budget, handlers that
 * settle at once (or within microtasks) would run every queued message in one turn, and the next
 * read, its reply and the acks would wait until the queue is empty: the read-ahead would never
 * overlap with the work.
 *
 * @example
 * const turn = new TurnBudget(); if (!turn.spend()) setImmediate(goOn) // go on in the next turn
 */
export class TurnBudget {
  #ran = 0;

  readonly #newTurn = (): void => {
    this.#ran = 0;
  };

  /** More than `TURN_BUDGET` ran in this turn: a deferred busy period wakes the next worker in the next. */
  get exhausted(): boolean {
    return this.#ran > TURN_BUDGET;
  }

  /** Count one message run in this turn of the event loop; false once `TURN_BUDGET` ran. */
  spend(): boolean {
    if (this.#ran === 0) setImmediate(this.#newTurn);
    return ++this.#ran <= TURN_BUDGET;
  }
}
