import { describe, expect, it } from 'vitest';
import { MAX_READ_AHEAD, ReadSize } from '../../src/actors/consumer/read-size.js';

describe('adaptive read size', () => {
  it('has no read-ahead until a handler time and a read time are known', () => {
    const size = new ReadSize(16, null);
    expect(size.readAhead).toBe(0);
    size.read(2);
    expect(size.readAhead).toBe(0);
  });

  it('reads two round trips of work ahead for fast handlers, so one is still queued when the next read goes out', () => {
    const size = new ReadSize(4, null);
    size.handled(0.5);
    size.read(2);
    // 4 workers × 2 ms / 0.5 ms = 16 per round trip; two round trips ahead.
    expect(size.readAhead).toBe(32);
  });

  it('follows a new worker count at once (runtime.setConcurrency)', () => {
    const size = new ReadSize(4, null);
    size.handled(0.5);
    size.read(2);
    expect(size.readAhead).toBe(32);
    size.resize(8);
    expect(size.readAhead).toBe(64); // 8 workers × 2 ms / 0.5 ms, two round trips
    size.resize(1);
    expect(size.readAhead).toBe(8);
    const fixed = new ReadSize(4, 48);
    fixed.resize(16);
    expect(fixed.readAhead).toBe(48); // prefetch stays fixed
  });

  it('caps the read-ahead for very fast handlers', () => {
    const size = new ReadSize(16, null);
    size.handled(0.001);
    size.read(5);
    expect(size.readAhead).toBe(MAX_READ_AHEAD);
    expect(MAX_READ_AHEAD).toBe(2048);
  });

  it('gives slow handlers no read-ahead: reads ask for free workers only', () => {
    const size = new ReadSize(16, null);
    size.handled(0.01);
    size.read(2);
    expect(size.readAhead).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) size.handled(20);
    size.read(2);
    expect(size.readAhead).toBe(0);
  });

  it('keeps a fixed prefetch whatever the timings', () => {
    const size = new ReadSize(16, 48);
    size.handled(0.001);
    size.read(5);
    expect(size.readAhead).toBe(48);
  });
});
