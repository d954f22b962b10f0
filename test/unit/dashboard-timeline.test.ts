import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/actors/runtime-events.js';
import { groupOf, Timeline } from '../../src/dashboard/timeline.js';

const deadLetter = (n: number): RuntimeEvent => ({
  type: 'message.dead-lettered',
  at: 1000 + n,
  consumerId: 'c',
  messageId: `${n}-0`,
  messageType: 't',
  reason: 'non-retryable',
  error: 'rejected',
  deadLetterId: `${n}-1`,
});

describe('Timeline', () => {
  it('keeps lifecycle events while dead letters storm: each kind has its own window', () => {
    const timeline = new Timeline(10);
    timeline.add({ type: 'consumer.restarting', at: 1, consumerId: 'c', reason: 'nogroup', attempt: 1 });
    timeline.add({ type: 'consumer.restarted', at: 2, consumerId: 'c', reason: 'nogroup', restarts: 1 });
    timeline.flush();
    for (let sample = 0; sample < 50; sample++) {
      for (let i = 0; i < 5; i++) timeline.add(deadLetter(sample * 5 + i));
      timeline.flush();
    }
    const kept = timeline.recent();
    expect(kept.filter((e) => groupOf(e.kind) === 'lifecycle').map((e) => e.kind)).toEqual([
      'consumer.restarting',
      'consumer.restarted',
    ]);
    expect(kept.filter((e) => groupOf(e.kind) === 'dead')).toHaveLength(10);
    expect(kept.map((e) => e.at)).toEqual([...kept.map((e) => e.at)].sort((a, b) => a - b));
  });

  it('lists retries as their own kind, capped per flush like dead letters', () => {
    const timeline = new Timeline();
    for (let i = 0; i < 5; i++) {
      timeline.add({
        type: 'message.retrying',
        at: i,
        consumerId: 'c',
        messageId: `${i}-0`,
        messageType: 't',
        attempt: 1,
        delayMs: 200,
        error: 'timeout',
      });
    }
    const texts = timeline.flush().map((e) => [groupOf(e.kind), e.text]);
    expect(texts).toEqual([
      ['retries', 'retry 0-0: attempt 1 failed, next in 200 ms: timeout'],
      ['retries', 'retry 1-0: attempt 1 failed, next in 200 ms: timeout'],
      ['retries', 'retry 2-0: attempt 1 failed, next in 200 ms: timeout'],
      ['retries', '+2 more retries'],
    ]);
  });
});
