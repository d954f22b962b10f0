import { Redis } from 'ioredis';

/** A RESP2 ioredis connection (ioredis 6 defaults to RESP3; the project always sets 2). */
export function connect(url: string, options: { maxRetriesPerRequest?: null } = {}): Redis {
  return new Redis(url, { protocol: 2, lazyConnect: false, ...options });
}

/** The JSON payload every case publishes (~110 bytes, a typical event). */
export function payloadOf(i: number): string {
  return JSON.stringify({
    i,
    orderId: `ord-${i}`,
    customer: { id: i % 997, tier: 'gold' },
    amount: 42.5,
    items: ['sku-1', 'sku-2'],
  });
}

/** The message type every case uses. */
export const BENCH_TYPE = 'bench.event';

/**
 * Appends `count` entries (`type` + JSON `payload`) to `stream` with pipelines of `chunk` XADDs.
 * Entry `k` carries `payload.i = from + k`. Returns the id of the last entry.
 */
export async function fillStream(
  redis: Redis,
  stream: string,
  count: number,
  options: { from?: number; chunk?: number } = {},
): Promise<string> {
  const from = options.from ?? 0;
  const chunk = options.chunk ?? 1_000;
  let lastId = '';
  for (let start = 0; start < count; start += chunk) {
    const pipeline = redis.pipeline();
    const end = Math.min(count, start + chunk);
    for (let k = start; k < end; k++)
      pipeline.xadd(stream, '*', 'type', BENCH_TYPE, 'payload', payloadOf(from + k));
    const replies = await pipeline.exec();
    const last = replies?.[replies.length - 1];
    if (last === undefined || last[0] !== null)
      throw last?.[0] ?? new Error('XADD pipeline returned nothing');
    lastId = String(last[1]);
  }
  return lastId;
}

/** Creates `group` on `stream` at `startId` (MKSTREAM). */
export async function createGroup(redis: Redis, stream: string, group: string, startId = '0'): Promise<void> {
  await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
}

/** Redis CPU (user + sys) so far, in ms, from INFO cpu. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const pick = (name: string): number =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 'NaN');
  return (pick('used_cpu_user') + pick('used_cpu_sys')) * 1000;
}

/** The server's version from INFO server. */
export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
}

/** Deletes every key matching `pattern` (SCAN + UNLINK): the way to clean a shared server. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Resolves once `group` has nothing pending on `stream`; rejects when the pending count does not move
 * for `settleMs` (entries left unacked: the case fails, never a figure).
 */
export async function expectNothingPending(
  redis: Redis,
  stream: string,
  group: string,
  what: string,
  settleMs = 5_000,
): Promise<void> {
  const count = async () => Number(((await redis.xpending(stream, group)) as [number, ...unknown[]])[0]);
  let pending = await count();
  let since = performance.now();
  while (pending > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const next = await count();
    if (next !== pending) since = performance.now();
    else if (performance.now() - since > settleMs)
      throw new Error(`${what}: ${next} left pending in Redis for ${settleMs} ms`);
    pending = next;
  }
}
