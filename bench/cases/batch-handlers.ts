/**
 * Batch handlers: the same work, one Redis round trip per handler call, done per message
 * (`router.on`, one HSET per message) and per batch (`router.batch` of 100 messages, waiting at most
 * 5 ms, one HSET of all of them). Both at concurrency 16, interleaved, on the same pre-filled
 * streams; every payload must be written to the sink hash. Target: the batch ≥ 3× per message (medians).
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import type { DrainVariant, PreparedDrain } from '../lib/drain.js';
import { BENCH_TYPE } from '../lib/redis.js';
import { fillDrainData, runInterleaved } from '../lib/repeat.js';
import { waitSettled } from '../lib/settle.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

const CASE = 'batch-handlers';
const CONCURRENCY = 16;
const BATCH = { size: 100, waitMs: 5 };

type Payload = { i: number };

/** One drain of the case: per message (`router.on`) or batched (`router.batch`). */
export function batchCaseVariant(name: string, batched: boolean): DrainVariant {
  const what = `${CASE} ${name}`;
  return {
    case: CASE,
    variant: name,
    tags: ['streamvisor', 'batch'],
    async prepare(ctx, stream, admin): Promise<PreparedDrain> {
      const n = stream.messages;
      const group = await stream.openGroup(admin);
      const sinkKey = `${ctx.keyPrefix}${CASE}:sink:${group.name}`;
      const sink: Redis = ctx.connect();
      const seen = new Uint8Array(n);
      let distinct = 0;
      let calls = 0;
      const saw = (payload: Payload) => {
        if (seen[payload.i] === 0) {
          seen[payload.i] = 1;
          distinct++;
        }
      };
      const router = new Router();
      if (batched) {
        router.batch(
          BENCH_TYPE,
          async (messages) => {
            calls++;
            const fields: string[] = [];
            for (const m of messages) fields.push(String((m.payload as Payload).i), '1');
            await sink.hset(sinkKey, ...fields);
            for (const m of messages) saw(m.payload as Payload);
          },
          BATCH,
        );
      } else {
        router.on(BENCH_TYPE, async (message) => {
          calls++;
          await sink.hset(sinkKey, String((message.payload as Payload).i), '1');
          saw(message.payload as Payload);
        });
      }
      const runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(ctx.redisUrl),
        router,
        consumers: [{ stream: stream.key, group: group.name, concurrency: CONCURRENCY }],
        logger: pino({ level: 'warn' }),
      });
      const blocked = await blockedClients(admin, 'xreadgroup');
      await runtime.start();
      let stopped: Promise<void> | undefined;
      const stop = () => {
        stopped ??= runtime.stop({ timeoutMs: 10_000 }).finally(() => sink.disconnect());
        return stopped;
      };
      try {
        await waitBlocked(admin, 'xreadgroup', blocked + 1, what);
      } catch (error) {
        await stop();
        await group.close();
        throw error;
      }
      return {
        messages: n,
        release: () => group.release(),
        settled: () =>
          waitSettled({ expected: n, handled: () => distinct, query: () => group.query(), what }),
        async verify() {
          const written = await sink.hlen(sinkKey);
          await sink.unlink(sinkKey);
          await stop();
          if (distinct !== n) throw new Error(`${what}: handler saw ${distinct} of ${n} messages`);
          if (written !== n) throw new Error(`${what}: the sink holds ${written} of ${n} messages`);
          return { 'handler calls': calls, 'messages per call': Math.round((n / calls) * 10) / 10 };
        },
        async close() {
          await stop();
          await group.close();
        },
      };
    },
  };
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const admin = ctx.connect();
  try {
    const data = await fillDrainData(ctx, admin, 'batch');
    return await runInterleaved(
      ctx,
      admin,
      data,
      [batchCaseVariant('per message', false), batchCaseVariant(`batch ${BATCH.size}`, true)],
      'throughput',
    );
  } finally {
    admin.disconnect();
  }
}
