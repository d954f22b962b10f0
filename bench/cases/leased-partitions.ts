/**
 * The cost of leases: one runtime drains the same 4 partitions (`…:{0}` … `…:{3}`, concurrency 8
 * each) with and without `assignment: 'leased'`, interleaved. Each partition is its own DrainStream
 * (pre-filled, a fresh group at `$` per drain, rewound and woken by one last entry when the clock
 * starts). The leased runtime holds every partition's lease before the clock starts (it waits on
 * `snapshot().partitions`), so the clock sees the steady state: lease renewals and the fencing
 * check on every read and every message. Every message must be handled exactly once.
 * Target: leased ≥ 0.9× unleased (medians).
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import type { DrainData, DrainVariant, PreparedDrain } from '../lib/drain.js';
import { type DrainGroup, DrainStream } from '../lib/drain-stream.js';
import { BENCH_TYPE } from '../lib/redis.js';
import { runInterleaved } from '../lib/repeat.js';
import { waitSettled } from '../lib/settle.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

const CASE = 'leased-partitions';
const PARTITIONS = 4;
const CONCURRENCY = 8;

/** The partitions' streams of each DrainData stream (the first partition's DrainStream is the key). */
type Partitions = Map<DrainStream, { base: string; streams: DrainStream[] }>;

async function fillPartitions(
  ctx: BenchContext,
  admin: Redis,
  partitions: Partitions,
  base: string,
  messages: number,
): Promise<DrainStream> {
  const per = Math.max(2, Math.floor(messages / PARTITIONS));
  const streams: DrainStream[] = [];
  for (let p = 0; p < PARTITIONS; p++) streams.push(await DrainStream.fill(admin, `${base}:{${p}}`, per));
  ctx.log(`${CASE}: filled ${per * PARTITIONS} entries over ${PARTITIONS} partitions of ${base}`);
  const first = streams[0] as DrainStream;
  partitions.set(first, { base, streams });
  return first;
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function variant(name: string, leased: boolean, partitions: Partitions): DrainVariant {
  const what = `${CASE} ${name}`;
  return {
    case: CASE,
    variant: name,
    tags: ['streamvisor', 'leases', 'partitions'],
    async prepare(ctx, first, admin): Promise<PreparedDrain> {
      const data = partitions.get(first);
      if (data === undefined) throw new Error(`${what}: no partitions filled for ${first.key}`);
      const groups: DrainGroup[] = [];
      for (const stream of data.streams) groups.push(await stream.openGroup(admin));
      const group = groups[0]?.name ?? '';
      if (groups.some((g) => g.name !== group)) throw new Error(`${what}: the partitions' groups differ`);
      const n = data.streams.reduce((sum, s) => sum + s.messages, 0);
      const per = first.messages;
      const seen = new Uint8Array(n);
      let distinct = 0;
      let calls = 0;
      const router = new Router();
      router.on(BENCH_TYPE, async (message) => {
        calls++;
        const p = Number(/:\{(\d+)\}$/.exec(message.stream)?.[1]);
        const at = p * per + (message.payload as { i: number }).i;
        if (seen[at] === 0) {
          seen[at] = 1;
          distinct++;
        }
      });
      const runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(ctx.redisUrl),
        router,
        consumers: [
          {
            stream: data.base,
            group,
            partitions: PARTITIONS,
            concurrency: CONCURRENCY,
            ...(leased ? { assignment: 'leased' as const } : {}),
          },
        ],
        logger: pino({ level: 'warn' }),
      });
      const blocked = await blockedClients(admin, 'xreadgroup');
      let stopped: Promise<void> | undefined;
      const stop = () => {
        stopped ??= runtime.stop({ timeoutMs: 10_000 });
        return stopped;
      };
      // stop() releases the leases and leaves the member set: no lease key outlives the drain.
      const close = async () => {
        await stop();
        for (const g of groups) await g.close();
      };
      try {
        await runtime.start();
        if (leased)
          await until(() => {
            const owned = runtime.snapshot().partitions ?? [];
            return owned.length === PARTITIONS && owned.every((p) => p.mine);
          }, `${what}: every partition leased`);
        await waitBlocked(admin, 'xreadgroup', blocked + PARTITIONS, what);
      } catch (error) {
        await close();
        throw error;
      }
      return {
        messages: n,
        release: async () => {
          await Promise.all(groups.map((g) => g.release()));
        },
        settled: () =>
          waitSettled({
            expected: n,
            handled: () => distinct,
            query: async () => {
              const states = await Promise.all(groups.map((g) => g.query()));
              return {
                done: states.every((s) => s.done),
                pending: states.reduce((sum, s) => sum + s.pending, 0),
                state: states.map((s) => s.state).join(','),
              };
            },
            what,
          }),
        async verify() {
          const owned = (runtime.snapshot().partitions ?? []).filter((p) => p.mine).length;
          await stop();
          if (distinct !== n) throw new Error(`${what}: handler saw ${distinct} of ${n} messages`);
          return {
            partitions: PARTITIONS,
            'concurrency/partition': CONCURRENCY,
            'handler calls': calls,
            ...(leased ? { 'leases held': owned } : {}),
          };
        },
        close,
      };
    },
  };
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const admin = ctx.connect();
  try {
    const partitions: Partitions = new Map();
    const data: DrainData = {
      timed: await fillPartitions(ctx, admin, partitions, `${ctx.keyPrefix}leased`, ctx.sizes.messages),
      warmup: await fillPartitions(
        ctx,
        admin,
        partitions,
        `${ctx.keyPrefix}leased-warmup`,
        ctx.sizes.warmupMessages,
      ),
    };
    return await runInterleaved(
      ctx,
      admin,
      data,
      [variant('unleased', false, partitions), variant('leased', true, partitions)],
      'throughput',
    );
  } finally {
    admin.disconnect();
  }
}
