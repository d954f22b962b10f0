import { describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router, type StreamStorage } from '../../src/index.js';
import { createTestRuntime } from '../../src/testing/index.js';
import { memoryLogger } from './retry-support.js';

const router = () => new Router().on('t', () => {});

describe('consumer option retention', () => {
  it.each([
    [{ keepMs: -1 }, '`consumers[0].retention.keepMs` to be an integer ≥ 0, got number -1'],
    [{ keepMs: 1.5 }, '`consumers[0].retention.keepMs` to be an integer ≥ 0, got number 1.5'],
    [{ intervalMs: 0 }, '`consumers[0].retention.intervalMs` to be an integer ≥ 1, got number 0'],
    [{ intervalMs: -100 }, '`consumers[0].retention.intervalMs` to be an integer ≥ 1'],
    [{ intervalMs: 2.5 }, '`consumers[0].retention.intervalMs` to be an integer ≥ 1'],
    [{ intervalMs: '60000' }, '`consumers[0].retention.intervalMs` to be an integer ≥ 1, got "60000"'],
    [
      true,
      '`consumers[0].retention` to be an object like { intervalMs: 60000, keepMs: 0 }, got boolean true',
    ],
    [null, '`consumers[0].retention` to be an object like { intervalMs: 60000, keepMs: 0 }, got null'],
  ])(
    'rejects retention %j at createRuntime with a TypeError that says what to change',
    (retention, words) => {
      const create = () =>
        createRuntime({
          router: router(),
          consumers: [{ stream: 's', group: 'g', retention: retention as { keepMs?: number } }],
        });
      expect(create).toThrow(TypeError);
      expect(create).toThrow(words);
    },
  );

  it('rejects retention on a storage without trimAcked', () => {
    const storage = new MemoryStreamStorage();
    const limited: StreamStorage = Object.assign(Object.create(storage) as StreamStorage, {
      trimAcked: undefined,
    });
    expect(() =>
      createRuntime({
        storage: limited,
        router: router(),
        consumers: [{ stream: 's', group: 'g', id: 'c1', retention: {} }],
      }),
    ).toThrow('Expected a storage with `trimAcked` for the `retention` of consumer "c1"');
  });

  it('trims every intervalMs what every group acked, never what another group has pending or not read', async () => {
    const t = createTestRuntime({
      router: router(),
      consumers: [
        {
          stream: 's',
          group: 'bot',
          consumer: 'c',
          id: 'bot',
          startId: '0',
          retention: { intervalMs: 1000 },
        },
      ],
    });
    await t.storage.ensureGroup('s', 'other', '0');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await t.publish('s', 't', { i }));
    const read = await t.storage.readGroup('s', 'other', 'x', { count: 6 });
    await t.storage.ack(
      's',
      'other',
      read.slice(0, 4).map((entry) => entry.id),
    );
    await t.start();
    await t.waitFor(() => t.runtime.snapshot().consumers[0]!.processed === 10);
    expect(await t.storage.length('s')).toBe(10);
    await t.advance(1000);
    expect(t.runtime.snapshot().consumers[0]!.trimmed).toBe(4);
    expect((await t.storage.range('s')).map((entry) => entry.id)).toEqual(ids.slice(4));
    // Again a second later: nothing more is acked by `other`, nothing more goes.
    await t.advance(1000);
    expect(t.runtime.snapshot().consumers[0]!.trimmed).toBe(4);
    await t.storage.ack(
      's',
      'other',
      read.slice(4).map((entry) => entry.id),
    );
    await t.advance(1000);
    expect(t.runtime.snapshot().consumers[0]!.trimmed).toBe(6);
    expect(await t.storage.length('s')).toBe(4);
    await t.stop();
  });

  it('keepMs keeps the recent entries the groups acked', async () => {
    const t = createTestRuntime({
      router: router(),
      consumers: [{ stream: 's', group: 'g', startId: '0', retention: { intervalMs: 1000, keepMs: 5000 } }],
    });
    await t.start();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(await t.publish('s', 't', { i }));
      await t.advance(1000);
    }
    // Now is 6 s after the first entry: the two oldest are more than 5 s old.
    const kept = (await t.storage.range('s')).map((entry) => entry.id);
    expect(t.runtime.snapshot().consumers[0]!.trimmed).toBe(ids.length - kept.length);
    expect(kept).toEqual(ids.slice(ids.length - kept.length));
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThan(6);
    await t.stop();
  });

  it('trims each partition of a partitioned consumer', async () => {
    const t = createTestRuntime({
      router: router(),
      consumers: [
        {
          stream: 'p',
          group: 'g',
          consumer: 'c',
          partitions: 2,
          startId: '0',
          retention: { intervalMs: 500 },
        },
      ],
    });
    await t.start();
    for (let i = 0; i < 3; i++) await t.publish('p:{0}', 't', { i });
    for (let i = 0; i < 5; i++) await t.publish('p:{1}', 't', { i });
    await t.waitFor(() => t.runtime.snapshot().consumers.every((c) => c.processed > 0));
    await t.advance(1000);
    expect(t.runtime.snapshot().consumers.map((c) => c.trimmed)).toEqual([3, 5]);
    expect(await t.storage.length('p:{0}')).toBe(0);
    expect(await t.storage.length('p:{1}')).toBe(0);
    await t.stop();
  });

  it('never trims without the option, and stops trimming when the consumer stops', async () => {
    const t = createTestRuntime({
      router: router(),
      consumers: [
        { stream: 'a', group: 'g', id: 'plain', startId: '0' },
        { stream: 'b', group: 'g', id: 'kept', startId: '0', retention: { intervalMs: 100 } },
      ],
    });
    const trim = t.storage.trimAcked.bind(t.storage);
    const streams: string[] = [];
    t.storage.trimAcked = (stream, options) => {
      streams.push(stream);
      return trim(stream, options);
    };
    await t.start();
    await t.publish('a', 't', {});
    await t.publish('b', 't', {});
    await t.advance(500);
    expect(await t.storage.length('a')).toBe(1);
    expect(await t.storage.length('b')).toBe(0);
    expect(new Set(streams)).toEqual(new Set(['b']));
    await t.stop();
    const calls = streams.length;
    await t.advance(1000);
    expect(streams).toHaveLength(calls);
  });

  it('a failing trim is logged at warn once, then debug, and the consumer keeps consuming', async () => {
    const { logger, records } = memoryLogger();
    const t = createTestRuntime({
      router: router(),
      logger,
      consumers: [{ stream: 's', group: 'g', startId: '0', retention: { intervalMs: 100 } }],
    });
    t.storage.trimAcked = async () => {
      throw new Error('NOPERM this user has no permissions to run the xtrim command');
    };
    await t.start();
    await t.advance(350);
    await t.publish('s', 't', {});
    await t.waitFor(() => t.runtime.snapshot().consumers[0]!.processed === 1);
    const trims = records.filter((r) => String(r.msg).startsWith('could not trim the stream'));
    expect(trims.length).toBeGreaterThanOrEqual(3);
    expect(trims.map((r) => r.level)).toEqual([40, ...trims.slice(1).map(() => 20)]);
    expect(t.stateOf(t.runtime.consumers[0]!.id)).toMatch(/polling|dispatching/);
    await t.stop();
  });
});
