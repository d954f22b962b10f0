import { describe, expect, it } from 'vitest';
import type { DispatchJob } from '../../src/actors/dispatch/dispatch-job.js';
import { JobQueue } from '../../src/actors/dispatch/job-queue.js';

// The worker pool's FIFO (mutation testing: only ever used a few items deep by the runtime tests, so
// its length, its empty case and its compaction past 1,024 consumed items were unasserted).

const job = (n: number) => ({ id: `${n}-0` }) as unknown as DispatchJob;
const ids = (queue: JobQueue, n: number) => Array.from({ length: n }, () => queue.shift()?.id);

describe('JobQueue', () => {
  it('is first in, first out, with its length, and undefined when empty', () => {
    const queue = new JobQueue();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    for (const n of [1, 2, 3]) queue.push(job(n));
    expect(queue.length).toBe(3);
    expect(queue.shift()?.id).toBe('1-0');
    expect(queue.length).toBe(2);
    queue.push(job(4));
    expect(ids(queue, 3)).toEqual(['2-0', '3-0', '4-0']);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    queue.push(job(5)); // reused after running empty
    expect(queue.length).toBe(1);
    expect(queue.shift()?.id).toBe('5-0');
  });

  it('keeps order and length across its compaction (past 1,024 consumed, half the array)', () => {
    const queue = new JobQueue();
    for (let n = 0; n < 3000; n++) queue.push(job(n));
    expect(ids(queue, 1023)).toEqual(Array.from({ length: 1023 }, (_, n) => `${n}-0`));
    expect(queue.length).toBe(1977);
    expect(ids(queue, 600).at(-1)).toBe('1622-0'); // compacted on the way at 1,500 consumed
    expect(queue.length).toBe(1377);
    for (let n = 3000; n < 3010; n++) queue.push(job(n));
    expect(queue.length).toBe(1387);
    const rest = ids(queue, 1387);
    expect(rest[0]).toBe('1623-0');
    expect(rest.at(-1)).toBe('3009-0');
    expect(new Set(rest).size).toBe(1387);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
