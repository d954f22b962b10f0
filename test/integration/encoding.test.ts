import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Message,
  RedisRetryScheduler,
  RedisStreamStorage,
  Router,
  type Runtime,
} from '../../src/index.js';
import { replayDeadLetters, resolveDeadLetters } from '../../src/wire/dead-letter-actions.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, testLogger } from './runtime-support.js';

// Issue 25, item 4: bytes that are not UTF-8 were decoded to U+FFFD and replaced for good in
// handlers, dead letters, durable retries and replays (the source was acked by then). Now such an
// entry is dead-lettered with reason `malformed-encoding` before any handler sees it, and every copy
// the library makes of it (dead letter, replay) holds the bytes as written, compared here as Buffers.

const prefix = uniquePrefix();
const redis = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });

afterEach(() => expectNoLeaks());
afterAll(async () => {
  redis.disconnect();
  await cleanupKeys(prefix);
});

/** `f`, two bytes that are no UTF-8 sequence, `o`. */
const BAD = Buffer.from([0x66, 0xff, 0xfe, 0x6f]);
/** A payload whose JSON is fine once decoded, but whose bytes are not UTF-8. */
const BAD_PAYLOAD = Buffer.concat([Buffer.from('{"name":"'), BAD, Buffer.from('"}')]);
/** Valid UTF-8 that holds U+FFFD itself (a producer really sent it), with other non-ASCII text. */
const LEGIT = '{"name":"f\uFFFDo — ünï 中文 🎉"}';

type Pair = [Buffer, Buffer];

/** Entry `id` of `stream` as bytes: its field/value pairs. */
async function bytesOf(stream: string, id: string): Promise<Pair[]> {
  const [entry] = await redis.xrangeBuffer(stream, id, id);
  if (entry === undefined) throw new Error(`no entry ${id} in ${stream}`);
  const flat = entry[1];
  const pairs: Pair[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as Buffer, flat[i + 1] as Buffer]);
  return pairs;
}

/** The pairs whose name does not start with `x-` (the original fields of a dead letter or replay). */
function original(pairs: Pair[]): Pair[] {
  return pairs.filter(([key]) => !key.toString('latin1').startsWith('x-'));
}

/** The value of field `name` among `pairs`, as text. */
function header(pairs: Pair[], name: string): string | undefined {
  return pairs.find(([key]) => key.toString() === name)?.[1].toString();
}

function run(
  storage: RedisStreamStorage,
  router: Router,
  stream: string,
  consumer: object = {},
  retryScheduler?: RedisRetryScheduler,
): Runtime<unknown> {
  return trackRuntime(
    createRuntime({
      storage,
      router,
      logger: testLogger(),
      consumers: [{ stream, group: 'g', startId: '0', blockMs: 100, ...consumer }],
      ...(retryScheduler === undefined ? {} : { retryScheduler }),
    }),
  );
}

async function deadLetters(stream: string): Promise<Array<{ id: string; pairs: Pair[] }>> {
  const entries = await redis.xrangeBuffer(`${stream}:dead`, '-', '+');
  return Promise.all(
    entries.map(async ([id]) => ({
      id: id.toString(),
      pairs: await bytesOf(`${stream}:dead`, id.toString()),
    })),
  );
}

describe('RedisStreamStorage: entries that are not UTF-8', () => {
  it.each([2, 3] as const)(
    'readGroup and claim mark them malformedEncoding (RESP%i); valid U+FFFD is not',
    async (protocol) => {
      const stream = `${prefix}:mark:${protocol}`;
      const client = new Redis(sharedRedisUrl(), { protocol, maxRetriesPerRequest: 1 });
      const storage = new RedisStreamStorage(client);
      try {
        await storage.ensureGroup(stream, 'g', '0');
        const bad = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', BAD_PAYLOAD));
        const badName = String(await redis.xadd(stream, '*', 'type', 'job', BAD, 'v'));
        const legit = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', LEGIT));
        const plain = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', '{}'));
        const read = await storage.readGroup(stream, 'g', 'c1', { count: 10 });
        const marked = (entries: typeof read) =>
          Object.fromEntries(entries.map((e) => [e.id, e.malformedEncoding === true]));
        expect(marked(read)).toEqual({ [bad]: true, [badName]: true, [legit]: false, [plain]: false });
        expect(read.find((e) => e.id === legit)?.fields.payload).toBe(LEGIT);
        const claimed = await storage.claim(stream, 'g', 'c2', [bad, badName, legit, plain], {
          minIdleMs: 0,
        });
        expect(marked(claimed.entries)).toEqual({
          [bad]: true,
          [badName]: true,
          [legit]: false,
          [plain]: false,
        });
        const auto = await storage.autoClaim(stream, 'g', 'c1', { minIdleMs: 0, count: 10 });
        expect(marked(auto.entries)).toEqual({
          [bad]: true,
          [badName]: true,
          [legit]: false,
          [plain]: false,
        });
      } finally {
        await storage.close();
        client.disconnect();
      }
    },
  );

  it('copyEntry copies the bytes as stored; null for an entry that is not there', async () => {
    const from = `${prefix}:copy-from`;
    const to = `${prefix}:copy-to`;
    const storage = new RedisStreamStorage(redis);
    const id = String(
      await redis.xadd(from, '*', 'type', 'job', 'payload', BAD_PAYLOAD, 'drop', 'me', BAD, BAD),
    );
    const copy = await storage.copyEntry(from, id, to, { omit: ['drop'], fields: { 'x-added': 'yes' } });
    expect(copy).not.toBeNull();
    expect(await bytesOf(to, String(copy))).toEqual([
      [Buffer.from('type'), Buffer.from('job')],
      [Buffer.from('payload'), BAD_PAYLOAD],
      [BAD, BAD],
      [Buffer.from('x-added'), Buffer.from('yes')],
    ]);
    expect(await storage.copyEntry(from, '1-1', to)).toBeNull();
  });
});

describe('runtime: a message that is not UTF-8', () => {
  it('is dead-lettered malformed-encoding with its bytes intact; no handler sees U+FFFD it was not sent; replay restores the bytes', async () => {
    const stream = `${prefix}:runtime`;
    const storage = new RedisStreamStorage(redis);
    const seen: Message[] = [];
    const router = new Router();
    router.on('job', (message) => {
      seen.push(message);
    });
    const inPayload = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', BAD_PAYLOAD));
    const inHeader = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', '{}', 'blob', BAD));
    const legit = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', LEGIT, 'note', '\uFFFD'));
    const sources = {
      [inPayload]: await bytesOf(stream, inPayload),
      [inHeader]: await bytesOf(stream, inHeader),
    };
    const runtime = run(storage, router, stream);
    await runtime.start();
    try {
      await eventually(
        async () => (await redis.xlen(`${stream}:dead`)) === 2 && seen.length === 1,
        10_000,
        'two dead letters, one handled',
      );
    } finally {
      await runtime.stop();
    }
    // Only the message that was valid UTF-8 reached the handler, U+FFFD and all as written.
    expect(seen.map((m) => m.id)).toEqual([legit]);
    expect(seen[0]?.payload).toEqual(JSON.parse(LEGIT));
    expect(seen[0]?.fields.note).toBe('\uFFFD');
    expect(((await redis.xpending(stream, 'g')) as unknown[])[0]).toBe(0);
    const letters = await deadLetters(stream);
    for (const letter of letters) {
      const sourceId = header(letter.pairs, 'x-source-id') as string;
      expect(header(letter.pairs, 'x-dead-reason')).toBe('malformed-encoding');
      expect(header(letter.pairs, 'x-dead-error')).toMatch(/not valid UTF-8/);
      expect(original(letter.pairs)).toEqual(sources[sourceId]);
    }
    expect(runtime.stats(runtime.consumers[0]!.id)?.deadLetteredByReason).toEqual({
      'malformed-encoding': 2,
    });

    // Replay (what `dlq replay` and the dashboard run) writes the same bytes back to the source stream.
    const tool = new RedisStreamStorage(redis); // the runtime closed its storage on stop
    const chosen = await resolveDeadLetters(
      tool,
      `${stream}:dead`,
      { reason: 'malformed-encoding' },
      { action: 'replay' },
    );
    const replayed = await replayDeadLetters(tool, `${stream}:dead`, chosen, stream);
    expect(replayed).toHaveLength(2);
    for (const { deadLetterId, id } of replayed) {
      const letter = letters.find((l) => l.id === deadLetterId) as { pairs: Pair[] };
      const back = await bytesOf(stream, id);
      expect(original(back)).toEqual(sources[header(letter.pairs, 'x-source-id') as string]);
      expect(header(back, 'x-replayed-from')).toBe(deadLetterId);
    }
    expect(await redis.xlen(`${stream}:dead`)).toBe(0);
  });

  it('dead-lettered for max-deliveries (no decode): the bytes are intact too', async () => {
    const stream = `${prefix}:max-deliveries`;
    const storage = new RedisStreamStorage(redis);
    const calls: string[] = [];
    const router = new Router();
    router.on('job', (message) => {
      calls.push(message.id);
    });
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const id = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', BAD_PAYLOAD, 'blob', BAD));
    const source = await bytesOf(stream, id);
    // A consumer that crashed on it twice: delivered twice already.
    await redis.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 1, 'STREAMS', stream, '>');
    await redis.xclaim(stream, 'g', 'ghost', 0, id);
    const runtime = run(storage, router, stream, {
      deadLetter: { maxDeliveries: 2 },
      claim: { minIdleMs: 1, intervalMs: 100 },
    });
    await runtime.start();
    try {
      await eventually(async () => (await redis.xlen(`${stream}:dead`)) === 1, 10_000, 'one dead letter');
    } finally {
      await runtime.stop();
    }
    const [letter] = await deadLetters(stream);
    expect(header(letter!.pairs, 'x-dead-reason')).toBe('max-deliveries');
    expect(original(letter!.pairs)).toEqual(source);
    expect(calls).toEqual([]);
  });
});

describe('durable retries and bytes', () => {
  it('a valid UTF-8 message comes back from the retry set byte for byte', async () => {
    const stream = `${prefix}:retry-valid`;
    const storage = new RedisStreamStorage(redis);
    const scheduler = new RedisRetryScheduler(redis, { pollIntervalMs: 50 });
    const deliveries: Message[] = [];
    const router = new Router();
    router.on('job', (message) => {
      deliveries.push(message);
      if (deliveries.length === 1) throw new Error('first time fails');
    });
    const id = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', LEGIT, 'h', 'ü\uFFFD\u0000🎉'));
    const source = await bytesOf(stream, id);
    const runtime = run(
      storage,
      router,
      stream,
      {
        retry: { attempts: 1, scheduled: { attempts: 2, backoff: { initialMs: 10, maxMs: 10 } } },
      },
      scheduler,
    );
    await runtime.start();
    try {
      await eventually(() => deliveries.length === 2, 10_000, 'the scheduled retry handled');
    } finally {
      await runtime.stop();
      await scheduler.close();
    }
    const again = deliveries[1] as Message;
    expect(again.id).not.toBe(id);
    const back = await bytesOf(stream, again.id);
    expect(header(back, 'x-retry-attempt')).toBe('1');
    expect(original(back)).toEqual(original(source));
  });

  it('a message that is not UTF-8 never reaches a handler nor the retry set: it is dead-lettered intact', async () => {
    const stream = `${prefix}:retry-bad`;
    const storage = new RedisStreamStorage(redis);
    const scheduler = new RedisRetryScheduler(redis, { pollIntervalMs: 50 });
    const calls: string[] = [];
    const router = new Router();
    router.on('job', (message) => {
      calls.push(message.id);
      throw new Error('always fails');
    });
    const id = String(await redis.xadd(stream, '*', 'type', 'job', 'payload', BAD_PAYLOAD));
    const source = await bytesOf(stream, id);
    const runtime = run(
      storage,
      router,
      stream,
      {
        retry: { attempts: 1, scheduled: { attempts: 2, backoff: { initialMs: 10, maxMs: 10 } } },
      },
      scheduler,
    );
    await runtime.start();
    try {
      await eventually(async () => (await redis.xlen(`${stream}:dead`)) === 1, 10_000, 'one dead letter');
    } finally {
      await runtime.stop();
      await scheduler.close();
    }
    const [letter] = await deadLetters(stream);
    expect(header(letter!.pairs, 'x-dead-reason')).toBe('malformed-encoding');
    expect(original(letter!.pairs)).toEqual(source);
    expect(calls).toEqual([]);
    expect(await redis.zcard(scheduler.keyOf(stream))).toBe(0);
  });
});
