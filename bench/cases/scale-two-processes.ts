/**
 * Scale on this box: the pre-filled drain with two processes (one runtime each, concurrency 16)
 * in one consumer group. Both start and block first (Redis shows them blocked); the clock starts when the group is rewound
 * to 0 and one last entry wakes them (XGROUP SETID + XADD), and stops when Redis reports the group
 * has delivered the last entry and nothing is pending. Compared with (a) and with one process.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import { BENCH_TYPE, createGroup, fillStream, payloadOf, redisCpuMs } from '../lib/redis.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { forkWorker, killWorkers, nextMessage, stopWorkers } from '../lib/workers.js';

const PROCESSES = 2;
const CONCURRENCY = 16;
const WORKER = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));

/** Group state from XINFO GROUPS (RESP2 flat arrays). */
async function groupState(
  redis: Redis,
  stream: string,
  group: string,
): Promise<{ pending: number; last: string }> {
  const groups = (await redis.xinfo('GROUPS', stream)) as (string | number)[][];
  for (const flat of groups) {
    const info = new Map<string, string | number>();
    for (let k = 0; k < flat.length; k += 2) info.set(String(flat[k]), flat[k + 1] as string | number);
    if (info.get('name') === group)
      return { pending: Number(info.get('pending')), last: String(info.get('last-delivered-id')) };
  }
  throw new Error(`group ${group} is gone from ${stream}`);
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const n = ctx.sizes.messages;
  const stream = `${ctx.keyPrefix}scale`;
  const admin = ctx.connect();
  const children: ChildProcess[] = [];
  try {
    ctx.log(`scale: filling ${n} entries`);
    await fillStream(admin, stream, n - 1);
    await createGroup(admin, stream, 'g', '$');
    const blocked = await blockedClients(admin, 'xreadgroup');
    for (let p = 0; p < PROCESSES; p++) {
      const config = {
        url: ctx.redisUrl,
        stream,
        group: 'g',
        consumer: `scale-${p + 1}`,
        concurrency: CONCURRENCY,
        dropAcks: ctx.sabotage === 'drop-acks',
      };
      children.push(forkWorker(WORKER, 'SV_BENCH_SCALE', config));
    }
    await Promise.all(children.map((child) => nextMessage(child, 'ready', 30_000, 'scale worker')));
    await waitBlocked(admin, 'xreadgroup', blocked + PROCESSES, 'scale');
    const redis0 = await redisCpuMs(admin);
    const t0 = performance.now();
    await admin.xgroup('SETID', stream, 'g', '0');
    const lastId = String(await admin.xadd(stream, '*', 'type', BENCH_TYPE, 'payload', payloadOf(n - 1)));
    let state = await groupState(admin, stream, 'g');
    let lastChange = performance.now();
    while (!(state.last === lastId && state.pending === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const next = await groupState(admin, stream, 'g');
      if (next.pending !== state.pending || next.last !== state.last) lastChange = performance.now();
      else if (performance.now() - lastChange > 30_000)
        throw new Error(`scale: no progress for 30 s (${JSON.stringify(next)})`);
      state = next;
    }
    const durationMs = performance.now() - t0;
    const redisCpu = (await redisCpuMs(admin)) - redis0;
    const done = await stopWorkers(children, n, 'scale worker', 'scale');
    const single = ctx.rows.find(
      (r) =>
        r.case === 'throughput-streamvisor' &&
        r.variant === `concurrency ${CONCURRENCY}` &&
        r.status === 'ok',
    )?.msgPerSec;
    const msgPerSec = (n / durationMs) * 1000;
    return [
      {
        case: 'scale-two-processes',
        kind: 'scale',
        variant: `${PROCESSES} × concurrency ${CONCURRENCY}`,
        status: 'ok',
        messages: n,
        durationMs,
        msgPerSec,
        redisCpuMs: redisCpu,
        extra: {
          split: done.map((d) => d.calls).join(' / '),
          ...(single === undefined ? {} : { 'vs 1 process': `${(msgPerSec / single).toFixed(2)}×` }),
        },
      },
    ];
  } finally {
    killWorkers(children);
    admin.disconnect();
  }
}
