import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Ledger } from '../helpers/ledger.js';

/** A plain client for a test's own commands (publishing, XPENDING, faults). Close it with `disconnect()`. */
export function testClient(url: string): Redis {
  const redis = new Redis(url, { protocol: 2, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  redis.on('error', () => {});
  return redis;
}

/** Publish `n` entries `{ type, payload: {"seq": i} }` in pipelined batches; records each id in the ledger. */
export async function publishMany(
  redis: Redis,
  stream: string,
  n: number,
  ledger: Ledger,
  type = 'job',
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 500) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(n, start + 500); i++) {
      pipeline.xadd(stream, '*', 'type', type, 'payload', JSON.stringify({ seq: i }));
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error, id] of results) {
      if (error) throw error;
      ledger.published(String(id));
      ids.push(String(id));
    }
  }
  return ids;
}

/** Number of entries pending in `group` (XPENDING summary); 0 when the group does not exist. */
export async function pendingCount(redis: Redis, stream: string, group: string): Promise<number> {
  try {
    const [count] = (await redis.xpending(stream, group)) as [number, ...unknown[]];
    return Number(count);
  } catch (error) {
    if (String(error).includes('NOGROUP')) return 0;
    throw error;
  }
}

/** A quiet logger for runtimes under test (set `SV_TEST_LOG=debug` to see it). */
export function testLogger() {
  return pino({ level: process.env.SV_TEST_LOG ?? 'silent' });
}

/** Resolves after `ms` (integration tests only: they run on real time against real Redis). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` every 10 ms until it holds; rejects after `timeoutMs` with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/** A publisher that keeps adding `{ type: 'job' }` entries (about one per `everyMs`) until `stop()`. */
export function startPublisher(redis: Redis, stream: string, ledger: Ledger, everyMs = 2) {
  let publishing = true;
  const loop = (async () => {
    while (publishing) {
      ledger.published(String(await redis.xadd(stream, '*', 'type', 'job', 'payload', '{}')));
      await delay(everyMs);
    }
  })();
  return {
    /** Stop publishing; resolves once the last XADD settled. */
    stop(): Promise<void> {
      publishing = false;
      return loop;
    },
  };
}
