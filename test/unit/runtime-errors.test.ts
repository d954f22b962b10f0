import { describe, expect, it } from 'vitest';
import { ConsumerStoppingError, Router, StreamvisorError } from '../../src/index.js';
import { createTestRuntime } from '../../src/testing/index.js';

describe('errors a runtime raises', () => {
  it('aborts a handler still running at the stop deadline with ConsumerStoppingError, and leaves its message pending', async () => {
    let reason: unknown;
    const router = new Router().on(
      'slow',
      (_message, ctx) =>
        new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        }),
    );
    const t = createTestRuntime({
      router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', blockMs: 1_000 }],
    });
    await t.start();
    await t.publish('s', 'slow', {});
    const stopping = t.runtime.stop({ timeoutMs: 500 });
    await t.advance(600);
    await stopping;
    expect(reason).toBeInstanceOf(ConsumerStoppingError);
    expect(reason).toMatchObject({ code: 'STOPPING', retriable: true });
    expect(await t.storage.pending('s', 'g', { count: 10 })).toHaveLength(1);
  });

  it('rejects start() after stop(), and inspect() before start(), with code RUNTIME_STATE', async () => {
    const t = createTestRuntime({ router: new Router(), consumers: [{ stream: 's', group: 'g' }] });
    expect(() => t.runtime.inspect(() => {})).toThrow(StreamvisorError);
    await t.start();
    await t.stop();
    await expect(t.runtime.start()).rejects.toMatchObject({ code: 'RUNTIME_STATE' });
  });
});
