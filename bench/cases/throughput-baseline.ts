/**
 * Throughput (a), the baseline: a bare ioredis loop, `XREADGROUP COUNT 100` then one `XACK` of the
 * whole batch (awaited), parsing each payload. No supervision, no retries: the floor of what one
 * connection can drain, that the other rows are compared to.
 */
import type { Redis } from 'ioredis';
import { createGroup, fillStream, redisCpuMs } from '../lib/redis.js';
import { cpuMeter } from '../lib/stats.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

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

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const n = ctx.sizes.messages;
  const stream = `${ctx.keyPrefix}tp-baseline`;
  const admin = ctx.connect();
  const reader = ctx.connect();
  try {
    await createGroup(admin, stream, 'g');
    ctx.log(`baseline: filling ${n} entries`);
    await fillStream(admin, stream, n);
    let checksum = 0;
    const redis0 = await redisCpuMs(admin);
    const cpu = cpuMeter();
    const t0 = performance.now();
    await bareDrain(reader, stream, 'g', n, (payload) => {
      checksum += payload.i;
    });
    const durationMs = performance.now() - t0;
    const nodeCpuPercent = cpu.stop();
    const redisCpu = (await redisCpuMs(admin)) - redis0;
    if (checksum !== (n * (n - 1)) / 2)
      throw new Error(`baseline read wrong payloads (checksum ${checksum})`);
    const pending = (await admin.xpending(stream, 'g')) as [number, ...unknown[]];
    if (pending[0] !== 0) throw new Error(`baseline left ${pending[0]} entries pending`);
    return [
      {
        case: 'throughput-baseline',
        kind: 'throughput',
        variant: 'COUNT 100',
        status: 'ok',
        messages: n,
        durationMs,
        msgPerSec: (n / durationMs) * 1000,
        nodeCpuPercent,
        redisCpuMs: redisCpu,
      },
    ];
  } finally {
    reader.disconnect();
    admin.disconnect();
  }
}
