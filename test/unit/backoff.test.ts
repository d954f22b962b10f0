import { describe, expect, it } from 'vitest';
import { exponentialDelay, restartDelay } from '../../src/machines/backoff.js';

// The delay formulas with exact numbers: the machine tests mostly run them without jitter, so the
// jitter, the caps and the edges are pinned here.

describe('exponentialDelay: min(maxMs, initialMs × 2^(attempt-1)) with equal jitter', () => {
  const backoff = { initialMs: 100, maxMs: 1000 };

  it('doubles per attempt from initialMs, then stays at maxMs', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => exponentialDelay(attempt, backoff, () => 1));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('treats attempt 0 (and below) as the first, and huge attempts as the cap, without overflow', () => {
    expect(exponentialDelay(0, backoff, () => 1)).toBe(100);
    expect(exponentialDelay(-5, backoff, () => 1)).toBe(100);
    expect(exponentialDelay(10_000, { initialMs: 1, maxMs: 5e12 }, () => 1)).toBe(2 ** 30);
  });

  it('lies in [step/2, step]: half the step plus random × half the step, rounded', () => {
    expect(exponentialDelay(3, backoff, () => 0)).toBe(200);
    expect(exponentialDelay(3, backoff, () => 0.5)).toBe(300);
    expect(exponentialDelay(3, backoff, () => 0.25)).toBe(250);
    expect(exponentialDelay(1, { initialMs: 3, maxMs: 10 }, () => 0)).toBe(2); // 1.5 rounds to 2
  });
});

describe("restartDelay: Akka's min(maxMs, minMs × 2^n) × (1 + random × randomFactor)", () => {
  const backoff = { minMs: 100, maxMs: 1000, randomFactor: 0.5 };

  it('doubles per restart from minMs (n from 0), then stays at maxMs', () => {
    const delays = [0, 1, 2, 3, 4, 29, 30, 500].map((n) => restartDelay(n, backoff, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('multiplies by 1 + random × randomFactor, rounded', () => {
    expect(restartDelay(0, backoff, () => 1)).toBe(150);
    expect(restartDelay(1, backoff, () => 0.5)).toBe(250);
    expect(restartDelay(0, { ...backoff, randomFactor: 0.333 }, () => 1)).toBe(133);
    expect(restartDelay(30, { ...backoff, maxMs: 5e12 }, () => 0)).toBe(5e12); // the cap, not 2^30
  });
});
