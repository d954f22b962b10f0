import { describe, expect, it } from 'vitest';
import { BatchError, NonRetryableError, Router } from '../../src/index.js';

describe('router.batch', () => {
  it('registers one batch route per type, with its size, wait and name', () => {
    const router = new Router().batch('metric', () => {}, { size: 50, waitMs: 5, name: 'store' });
    const route = router.batchRoute('metric');
    expect(route?.name).toBe('store');
    expect(route?.batch).toMatchObject({ size: 50, waitMs: 5 });
    expect(router.routes('metric')).toHaveLength(1);
    expect(router.maxBatchSize).toBe(50);
  });

  it('defaults to size 100 and waitMs 20; a router without batches has maxBatchSize 0', () => {
    expect(new Router().batch('m', () => {}).batchRoute('m')?.batch).toMatchObject({ size: 100, waitMs: 20 });
    expect(new Router().on('m', () => {}).maxBatchSize).toBe(0);
    expect(new Router().on('m', () => {}).batchRoute('m')).toBeUndefined();
  });

  it('checks its options, naming the limits', () => {
    const router = new Router();
    expect(() => router.batch('m', () => {}, { size: 0 })).toThrow(
      new RangeError('Expected `size` of the batch "m" to be from 1 to 10000, got 0'),
    );
    expect(() => router.batch('m', () => {}, { size: 10_001 })).toThrow(RangeError);
    expect(() => router.batch('m', () => {}, { size: 1.5 })).toThrow(TypeError);
    expect(() => router.batch('m', () => {}, { waitMs: -1 })).toThrow(
      new RangeError('Expected `waitMs` of the batch "m" to be from 0 to 60000 ms, got -1'),
    );
    expect(() => router.batch('m', () => {}, { waitMs: Number.NaN })).toThrow(TypeError);
    expect(() => router.batch('', () => {})).toThrow(TypeError);
    expect(() => router.batch('m', 'nope' as never)).toThrow(TypeError);
    expect(() => router.batch('m', () => {}, { name: '' })).toThrow(TypeError);
    expect(router.types).toEqual([]);
  });

  it('refuses a second handler for a batch type, in either order and through include()', () => {
    const message = /Expected "m" to have one handler when it has a batch handler, got 2/;
    expect(() => new Router().on('m', () => {}).batch('m', () => {})).toThrow(message);
    const batched = new Router().batch('m', () => {});
    expect(() => batched.on('m', () => {})).toThrow(message);
    expect(() => batched.batch('m', () => {})).toThrow(message);
    expect(batched.routes('m')).toHaveLength(1);
    const feature = new Router().on('m', () => {});
    expect(() => new Router().batch('m', () => {}).include(feature)).toThrow(message);
  });

  it('as a single-message handler (runtime.dispatch): a batch of one; a BatchError naming it rethrows its error', async () => {
    const seen: string[][] = [];
    const router = new Router().batch('m', (messages) => {
      seen.push(messages.map((m) => m.id));
      throw new BatchError([[messages[0]!, new NonRetryableError('bad row')]]);
    });
    const route = router.batchRoute('m')!;
    const message = { id: '1-0', type: 'm', payload: {}, fields: {}, stream: 's', deliveries: 1 };
    const ctx = {} as never;
    expect(() => route.handler(message, ctx)).toThrow(new NonRetryableError('bad row'));
    expect(seen).toEqual([['1-0']]);
  });
});

describe('BatchError', () => {
  it('keeps each failed message id with its error', () => {
    const error = new BatchError(new Map([[{ id: '1-0' }, 'x']]));
    expect([...error.failures]).toEqual([['1-0', 'x']]);
    expect(error).toMatchObject({ name: 'BatchError', code: 'BATCH_PARTIAL', retriable: true });
    expect(new BatchError([['2-0', new Error('y')]]).failures.get('2-0')).toEqual(new Error('y'));
  });

  it('refuses failures that name no message', () => {
    expect(() => new BatchError(null as never)).toThrow(TypeError);
    expect(() => new BatchError([[{} as never, 'x']])).toThrow(TypeError);
  });
});
