import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createRuntime,
  type HandlerContext,
  type Message,
  NonRetryableError,
  Router,
  type StreamStorage,
} from '../../src/index.js';
import { memoryLogger } from './retry-support.js';

// runtime.dispatch: the Python design's process_message. Every matching handler once, with the
// runtime's container, logger and an AbortSignal; no Redis, no retries, no ack (issue 13, point 2).

interface Container {
  calls: string[];
}

/** A storage that fails the test on any call: dispatch must not touch it. */
const untouchable = new Proxy({} as StreamStorage, {
  get: (_target, method) => () => {
    throw new Error(`dispatch called storage.${String(method)}`);
  },
});

function runtimeWith(router: Router<Container>, logger = pino({ level: 'silent' })) {
  const container: Container = { calls: [] };
  const runtime = createRuntime({
    storage: untouchable,
    router,
    container,
    logger,
    consumers: [{ stream: 'bot_events', group: 'bot', consumer: 'c1' }],
  });
  return { runtime, container };
}

describe('runtime.dispatch', () => {
  it('runs the matching handlers once, before start(), with the container, a signal, attempt 1 and a logger', async () => {
    const seen: { message: Message; ctx: HandlerContext<Container> }[] = [];
    const router = new Router<Container>()
      .on('booking.confirmed', (message, ctx) => {
        seen.push({ message, ctx });
        ctx.container.calls.push('first');
      })
      .on('booking.confirmed', (_message, ctx) => void ctx.container.calls.push('second'), { name: 'second' })
      .on('other', (_message, ctx) => void ctx.container.calls.push('other'));
    const { runtime, container } = runtimeWith(router);
    const result = await runtime.dispatch({ type: 'booking.confirmed', payload: { bookingId: 'b-1' } });
    expect(result).toEqual({
      outcome: 'handled',
      handlers: [expect.stringMatching(/^booking\.confirmed#\d+$/), 'second'],
    });
    expect(container.calls).toEqual(['first', 'second']);
    expect(runtime.status).toBe('starting'); // never started
    const { message, ctx } = seen[0]!;
    expect(message).toMatchObject({
      type: 'booking.confirmed',
      payload: { bookingId: 'b-1' },
      fields: { type: 'booking.confirmed' },
      stream: 'bot_events',
      deliveries: 1,
    });
    expect(message.id).toMatch(/^dispatch-/);
    expect(ctx.container).toBe(container);
    expect(ctx.signal).toBeInstanceOf(AbortSignal);
    expect(ctx.attempt).toBe(1);
    expect(typeof ctx.log.info).toBe('function');
  });

  it('takes raw stream fields as a producer wrote them: flat, or with a JSON payload field', async () => {
    const payloads: unknown[] = [];
    const router = new Router<Container>().on(
      'booking.confirmed',
      (message) => void payloads.push(message.payload),
    );
    const { runtime } = runtimeWith(router);
    expect((await runtime.dispatch({ type: 'booking.confirmed', user_id: '42' })).outcome).toBe('handled');
    expect((await runtime.dispatch({ type: 'booking.confirmed', payload: '{"user_id":42}' })).outcome).toBe(
      'handled',
    );
    expect(
      (await runtime.dispatch({ type: 'booking.confirmed', user_id: '7', 'x-retry-attempt': '2' })).outcome,
    ).toBe('handled');
    expect(payloads).toEqual([{ user_id: '42' }, { user_id: 42 }, { user_id: '7' }]);
  });

  it('converts numbers and booleans among flat fields to strings, as Redis stores them (never drops them)', async () => {
    const seen: Message[] = [];
    const router = new Router<Container>().on('booking.confirmed', (message) => void seen.push(message));
    const { runtime } = runtimeWith(router);
    const result = await runtime.dispatch({ type: 'booking.confirmed', user_id: 42, vip: true, score: 1.5 });
    expect(result.outcome).toBe('handled');
    expect(seen[0]!.payload).toEqual({ user_id: '42', vip: 'true', score: '1.5' });
    expect(seen[0]!.fields).toEqual({ type: 'booking.confirmed', user_id: '42', vip: 'true', score: '1.5' });
    // The decoded form's `fields` too.
    await runtime.dispatch({
      type: 'booking.confirmed',
      fields: { user_id: 7 } as unknown as Record<string, string>,
    });
    expect(seen[1]!.payload).toEqual({ user_id: '7' });
  });

  it('rejects, naming the field, an object, array, null or non-finite number among flat fields', async () => {
    let calls = 0;
    const router = new Router<Container>().on('t', () => void calls++);
    const { runtime } = runtimeWith(router);
    const bad = (message: object) => runtime.dispatch(message as Record<string, string>);
    await expect(bad({ type: 't', user: { id: 1 } })).rejects.toThrow(
      new TypeError(
        'Expected field `user` of the message to be a string, a finite number or a boolean (stream entry fields are strings), got an object; put structured data in `payload` (JSON), e.g. { type, payload: { user: … } }',
      ),
    );
    await expect(bad({ type: 't', tags: ['a'] })).rejects.toThrow(/field `tags` .* got an array/);
    await expect(bad({ type: 't', user_id: null })).rejects.toThrow(/field `user_id` .* got null/);
    await expect(bad({ type: 't', n: Number.NaN })).rejects.toThrow(/field `n` .* got NaN/);
    await expect(bad({ type: 't', fields: { n: {} } })).rejects.toThrow(/field `fields.n`/);
    expect(calls).toBe(0);
  });

  it('takes fields, stream and id in the decoded form', async () => {
    const seen: Message[] = [];
    const router = new Router<Container>().on('t', (message) => void seen.push(message));
    const { runtime } = runtimeWith(router);
    await runtime.dispatch({
      type: 't',
      fields: { 'x-tenant': 'acme', user_id: '1' },
      stream: 'webhooks',
      id: 'w-1',
    });
    expect(seen[0]).toEqual({
      id: 'w-1',
      type: 't',
      payload: { 'x-tenant': 'acme', user_id: '1' },
      fields: { 'x-tenant': 'acme', user_id: '1', type: 't' },
      stream: 'webhooks',
      deliveries: 1,
    });
  });

  it('runs every matching handler even after one failed, once each (no retry), and resolves the first error', async () => {
    const calls: string[] = [];
    const boom = new Error('boom');
    const router = new Router<Container>()
      .on(
        't',
        () => {
          calls.push('a');
          throw boom;
        },
        { name: 'a' },
      )
      .on('t', () => void calls.push('b'), { name: 'b' });
    const { runtime } = runtimeWith(router);
    const result = await runtime.dispatch({ type: 't', payload: null });
    expect(result).toEqual({ outcome: 'failed', handlers: ['a', 'b'], error: boom });
    expect(calls).toEqual(['a', 'b']);
  });

  it('says unrouted when no handler matches, filters included', async () => {
    const router = new Router<Container>().on('t', () => {}, { filter: (m) => m.fields.keep === 'yes' });
    const { runtime } = runtimeWith(router);
    expect(await runtime.dispatch({ type: 'nobody' })).toEqual({ outcome: 'unrouted', handlers: [] });
    expect(await runtime.dispatch({ type: 't', keep: 'no' })).toEqual({ outcome: 'unrouted', handlers: [] });
    expect(await runtime.dispatch({ type: 't', keep: 'yes' })).toMatchObject({ outcome: 'handled' });
  });

  it('fails, without calling a handler, a message without type, with bad JSON, or failing a schema', async () => {
    const calls: unknown[] = [];
    const router = new Router<Container>().on('t', (m) => void calls.push(m.payload), {
      schema: z.object({ n: z.number() }),
    });
    const { runtime } = runtimeWith(router);
    for (const input of [
      { user_id: '42' },
      { type: '' },
      { type: 't', payload: '{nope' },
      { type: 't', payload: { n: 'x' } },
    ]) {
      const result = await runtime.dispatch(input as { type: string });
      expect(result.outcome, JSON.stringify(input)).toBe('failed');
      expect(result.error).toBeInstanceOf(NonRetryableError);
    }
    expect(calls).toEqual([]);
    expect(await runtime.dispatch({ type: 't', payload: { n: 1 } })).toMatchObject({ outcome: 'handled' });
    expect(calls).toEqual([{ n: 1 }]);
  });

  it('fails, with the message of why, a decoded input whose type is missing, empty or not a string', async () => {
    const calls: unknown[] = [];
    const { runtime } = runtimeWith(new Router<Container>().on('t', (m) => void calls.push(m.type)));
    for (const input of [{ payload: { n: 1 } }, { type: '', payload: 1 }, { type: 7, payload: 1 }]) {
      const result = await runtime.dispatch(input as unknown as { type: string });
      expect(result, JSON.stringify(input)).toEqual({
        outcome: 'failed',
        handlers: [],
        error: expect.any(NonRetryableError),
      });
      expect(result.error?.message).toBe('Expected `type` to be a non-empty string; every message needs one');
    }
    expect(calls).toEqual([]);
  });

  it("fails, without running a handler, a message whose filter throws, with the filter's error", async () => {
    const calls: string[] = [];
    const bug = new Error('filter bug');
    const router = new Router<Container>()
      .on('t', () => void calls.push('a'), { name: 'a' })
      .on('t', () => void calls.push('b'), {
        name: 'b',
        filter: () => {
          throw bug;
        },
      });
    const { runtime } = runtimeWith(router);
    expect(await runtime.dispatch({ type: 't', payload: 1 })).toEqual({
      outcome: 'failed',
      handlers: [],
      error: bug,
    });
    expect(calls).toEqual([]);
  });

  it("hands the caller's signal to handlers, and logs through the runtime's logger", async () => {
    const { logger, records } = memoryLogger();
    let signal: AbortSignal | undefined;
    const router = new Router<Container>().on('t', (_m, ctx) => {
      signal = ctx.signal;
      ctx.log.info({ step: 1 }, 'handling');
    });
    const { runtime } = runtimeWith(router, logger);
    const controller = new AbortController();
    await runtime.dispatch({ type: 't', payload: 1, id: 'm-1' }, { signal: controller.signal });
    expect(signal).toBe(controller.signal);
    expect(records).toContainEqual(
      expect.objectContaining({
        msg: 'handling',
        step: 1,
        messageId: 'm-1',
        messageType: 't',
        dispatch: true,
      }),
    );
  });

  it('rejects a message that is not an object', async () => {
    const { runtime } = runtimeWith(new Router<Container>());
    await expect(runtime.dispatch(null as unknown as { type: string })).rejects.toThrow(TypeError);
    await expect(runtime.dispatch('t' as unknown as { type: string })).rejects.toThrow(/Expected `message`/);
    for (const [input, got] of [
      [null, 'null'],
      ['t', 'string'],
      [['t'], 'object'],
    ] as const) {
      await expect(runtime.dispatch(input as unknown as { type: string }), String(input)).rejects.toThrow(
        new TypeError(
          `Expected \`message\` to be { type, payload?, fields?, stream? } or the fields of a stream entry, got ${got}`,
        ),
      );
    }
  });

  it("decodes raw fields under the first consumer's maxPayloadBytes", async () => {
    const runtime = createRuntime({
      storage: untouchable,
      router: new Router().on('t', () => {}),
      logger: pino({ level: 'silent' }),
      consumers: [{ stream: 'bot_events', group: 'bot', consumer: 'c1', maxPayloadBytes: 16 }],
    });
    expect(await runtime.dispatch({ type: 't', payload: '{"n":1}' })).toMatchObject({ outcome: 'handled' });
    const result = await runtime.dispatch({ type: 't', payload: JSON.stringify({ text: 'x'.repeat(32) }) });
    expect(result).toMatchObject({ outcome: 'failed', handlers: [] });
    expect(result.error).toBeInstanceOf(NonRetryableError);
  });

  it('returns what the handlers published with ctx.publish, without writing it (the untouchable storage)', async () => {
    const router = new Router<Container>()
      .on('order.paid', (message, ctx) => {
        ctx.publish('invoices', 'invoice.due', message.payload, { headers: { 'x-source-id': message.id } });
        ctx.publish('ledger', 'ledger.entry', { n: 1 }, { key: 'customer-7', partitions: 12 });
      })
      .on(
        'order.paid',
        (_message, ctx) => {
          ctx.publish('audit', 'dropped', {});
          throw new Error('this handler failed: its outputs are dropped');
        },
        { name: 'failing' },
      );
    const { runtime } = runtimeWith(router);
    const result = await runtime.dispatch({ type: 'order.paid', payload: { orderId: 42 }, id: 'm-1' });
    expect(result.outcome).toBe('failed');
    expect(result.published).toEqual([
      {
        stream: 'invoices',
        partition: null,
        fields: { type: 'invoice.due', payload: '{"orderId":42}', 'x-source-id': 'm-1' },
      },
      {
        stream: 'ledger:{9}',
        partition: 9,
        fields: { type: 'ledger.entry', payload: '{"n":1}', 'x-partition-key': 'customer-7' },
      },
    ]);
    const quiet = await runtimeWith(new Router<Container>().on('t', () => {})).runtime.dispatch({
      type: 't',
    });
    expect(quiet).toEqual({ outcome: 'handled', handlers: [expect.any(String)] });
  });
});
