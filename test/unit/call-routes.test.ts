import { describe, expect, it } from 'vitest';
import { callRoutes } from '../../src/actors/dispatch/call-routes.js';
import { NonRetryableError } from '../../src/errors/non-retryable-error.js';
import { Router } from '../../src/routing/router.js';
import type { Message } from '../../src/wire/message.js';

// The one handler loop behind a consumer's attempts and runtime.dispatch.

const message: Message = {
  id: '1-0',
  type: 't',
  payload: {},
  fields: { type: 't' },
  stream: 's',
  deliveries: 1,
};
const ctx = {
  container: undefined,
  signal: new AbortController().signal,
  attempt: 1,
  publish: () => {},
  log: undefined as never,
};

function routes(...handlers: Array<() => unknown>) {
  const router = new Router();
  for (const handler of handlers) router.on('t', handler);
  return router.match(message);
}

describe('callRoutes', () => {
  it('counts a handler that throws null or undefined as failed', async () => {
    for (const thrown of [null, undefined]) {
      const result = await callRoutes(
        routes(
          () => {},
          () => {
            throw thrown;
          },
        ),
        message,
        ctx,
        { endOnNonRetryable: true },
      );
      expect(result).toEqual({ failed: true, failure: thrown, ended: null });
    }
  });

  it('runs every route after a failure, keeps the first failure, and ends at a NonRetryableError if asked', async () => {
    const ran: string[] = [];
    const first = new Error('first');
    const handlers = [
      () => {
        ran.push('a');
        throw first;
      },
      () => {
        ran.push('b');
        throw new NonRetryableError('no');
      },
      () => {
        ran.push('c');
      },
    ];
    const all = await callRoutes(routes(...handlers), message, ctx, { endOnNonRetryable: false });
    expect(all).toEqual({ failed: true, failure: first, ended: null });
    expect(ran).toEqual(['a', 'b', 'c']);
    ran.length = 0;
    const ended = await callRoutes(routes(...handlers), message, ctx, { endOnNonRetryable: true });
    expect(ended.ended).toBe('non-retryable');
    expect(ended.failure).toBeInstanceOf(NonRetryableError);
    expect(ran).toEqual(['a', 'b']);
  });

  it('skips routes that succeeded before and stops when told', async () => {
    const ran: string[] = [];
    const all = routes(
      () => ran.push('a'),
      () => ran.push('b'),
    );
    const skipped = await callRoutes(all, message, ctx, {
      skip: (route) => route.name === all[0]?.name,
      endOnNonRetryable: true,
    });
    expect(skipped.failed).toBe(false);
    expect(ran).toEqual(['b']);
    const stopped = await callRoutes(all, message, ctx, { stopped: () => true, endOnNonRetryable: true });
    expect(stopped).toEqual({ failed: false, failure: undefined, ended: 'stopped' });
    expect(ran).toEqual(['b']);
  });
});
