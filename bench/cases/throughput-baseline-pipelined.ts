/**
 * Throughput (a2), the pipelined baseline: a bare ioredis loop that reads `XREADGROUP COUNT 1000`
 * and sends the XACK of batch n together with the XREADGROUP of batch n + 1 in one pipeline (one
 * write, one round trip), so no read waits for an ack's reply. Parses each payload like the
 * baseline (a). The last batch's XACK goes out alone. No supervision, no retries: the fastest
 * simple loop one connection runs, the floor of the `all defaults ≥ 0.8×` target. Started, stopped
 * and checked like every stream drain (bench/lib/drain-stream.ts).
 */
import type { Redis } from 'ioredis';
import { bareVariant } from './throughput-baseline.js';

type StreamReply = [string, [string, string[]][]][] | null;

/** Entries per read: what the target's "bare loop" reads. */
const COUNT = 1000;

/**
 * Drains `total` entries of `stream`, calling `onPayload` with each parsed payload; each read after
 * the first is pipelined behind the previous batch's XACK. Rejects when a pipelined command fails.
 */
export async function pipelinedDrain(
  redis: Redis,
  stream: string,
  group: string,
  total: number,
  onPayload: (payload: { i: number }) => void,
): Promise<void> {
  const read = ['GROUP', group, 'bare-1', 'COUNT', COUNT, 'BLOCK', 1000, 'STREAMS', stream, '>'] as const;
  let reply = (await redis.xreadgroup(...read)) as StreamReply;
  let seen = 0;
  for (;;) {
    const entries = reply?.[0]?.[1] ?? [];
    const ids: string[] = new Array(entries.length);
    for (let k = 0; k < entries.length; k++) {
      const [id, fields] = entries[k] as [string, string[]];
      ids[k] = id;
      for (let f = 0; f < fields.length; f += 2) {
        if (fields[f] === 'payload') onPayload(JSON.parse(fields[f + 1] as string) as { i: number });
      }
    }
    seen += entries.length;
    if (seen >= total) {
      if (ids.length > 0) await redis.xack(stream, group, ...ids);
      return;
    }
    if (ids.length === 0) {
      reply = (await redis.xreadgroup(...read)) as StreamReply;
      continue;
    }
    const replies = await redis
      .pipeline()
      .xack(stream, group, ...ids)
      .xreadgroup(...read)
      .exec();
    const failed = replies?.find(([error]) => error !== null);
    if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('pipeline: no replies');
    reply = replies[1]?.[1] as StreamReply;
  }
}

export const pipelinedBaselineVariant = bareVariant({
  case: 'throughput-baseline-pipelined',
  variant: 'COUNT 1000, XACK pipelined',
  drain: pipelinedDrain,
});
