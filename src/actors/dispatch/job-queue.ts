import type { DispatchJob } from './dispatch-job.js';

/** A FIFO of jobs without `Array#shift`'s copying: a head index, compacted when half is consumed. */
export class JobQueue {
  #items: (DispatchJob | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(job: DispatchJob): void {
    this.#items.push(job);
  }

  shift(): DispatchJob | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const job = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return job;
  }
}
