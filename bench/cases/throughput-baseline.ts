/**
 * Throughput (a), the baseline: a bare ioredis loop, `XREADGROUP COUNT 100` then one `XACK` of the
 * whole batch (awaited), parsing each payload. No supervision, no retries: the floor of what one
 * connection can drain, that the other rows are compared to. Started and stopped like every stream
 * drain (bench/lib/drain-stream.ts): blocked on an empty group, released by a rewind, done when
 * Redis has nothing pending.
 */
import type { Redis } from 'ioredis';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import type { DrainVariant, PreparedDrain } from '../lib/drain.js';
import { waitSettled } from '../lib/settle.js';

type StreamReply = [string, [string, string[]][]][] | null;

/** Drains `total` entries of `stream` with the bare loop, calling `onPayload` with each parsed payload. */
export async function bareDrain(
  redis: Redis,
  stream: string,
  group: string,
  total: number,
  onPayload: (payload: { i: number }) => void,
): Promise<void> {
  let seen = 0;
  while (seen < total) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      group,
      'bare-1',
      'COUNT',
      100,
      'BLOCK',
      1000,
      'STREAMS',
      stream,
      '>',
    )) as StreamReply;
    const entries = reply?.[0]?.[1];
    if (entries === undefined || entries.length === 0) continue;
    const ids: string[] = new Array(entries.length);
    for (let k = 0; k < entries.length; k++) {
      const [id, fields] = entries[k] as [string, string[]];
      ids[k] = id;
      for (let f = 0; f < fields.length; f += 2) {
        if (fields[f] === 'payload') onPayload(JSON.parse(fields[f + 1] as string) as { i: number });
      }
    }
    await redis.xack(stream, group, ...ids);
    seen += entries.length;
  }
}

/** How a bare loop drains: `total` entries of `stream`, `onPayload` called with each parsed payload. */
type BareDrain = (
  redis: Redis,
  stream: string,
  group: string,
  total: number,
  onPayload: (payload: { i: number }) => void,
) => Promise<void>;

/**
 * A throughput row for a bare loop: one reader connection on a fresh group, ready once Redis shows
 * it blocked in XREADGROUP, done when Redis has nothing pending; every payload must be read exactly
 * once (each index, and no more calls than messages).
 */
export function bareVariant(options: { variant: string; case: string; drain: BareDrain }): DrainVariant {
  const what = `${options.case} ${options.variant}`;
  return {
    case: options.case,
    variant: options.variant,
    tags: ['throughput', 'baseline'],
    async prepare(ctx, stream, admin): Promise<PreparedDrain> {
      const n = stream.messages;
      const group = await stream.openGroup(admin);
      const reader = ctx.connect();
      const seen = new Uint8Array(n);
      let distinct = 0;
      let calls = 0;
      const blocked = await blockedClients(admin, 'xreadgroup');
      const draining = options.drain(reader, stream.key, group.name, n, ({ i }) => {
        calls++;
        if (seen[i] === 0) {
          seen[i] = 1;
          distinct++;
        }
      });
      draining.catch(() => {}); // awaited in verify; a rejection before that must not go unhandled
      try {
        await waitBlocked(admin, 'xreadgroup', blocked + 1, what);
      } catch (error) {
        reader.disconnect();
        await group.close();
        throw error;
      }
      return {
        messages: n,
        release: () => group.release(),
        settled: () =>
          waitSettled({ expected: n, handled: () => distinct, query: () => group.query(), what }),
        async verify() {
          await draining;
          if (distinct !== n || calls !== n)
            throw new Error(`${what}: ${calls} payloads read, ${distinct} distinct, of ${n}`);
          return {};
        },
        async close() {
          reader.disconnect();
          await group.close();
        },
      };
    },
  };
}

export const baselineVariant: DrainVariant = bareVariant({
  case: 'throughput-baseline',
  variant: 'COUNT 100',
  drain: bareDrain,
});
