import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import {
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  publishMany,
  startWorker,
  within,
} from './fault-support.js';
import type { WorkerConfig } from './worker-process.js';

// Outputs exactly once (issue 24, "Done when: Outputs"): a consumer process whose handler writes one
// output per input is SIGKILLed 5 times while it works and restarted under the same consumer name
// (it re-processes its own pending entries first). With ctx.publish the output stream ends with
// exactly one entry per input; with publish() from the same handler it gets duplicates (the handler
// wrote, the process died before the ack, the message ran again), so the first assertion can fail.

afterEach(() => expectNoLeaks());

const INPUTS = 1500;
const KILLS = 5;

describe('fault: a consumer process SIGKILLed while its handler publishes outputs', () => {
  it(
    'ctx.publish: exactly one output per input',
    { timeout: 60_000 },
    onPrivateRedis(async (context) => {
      const { perInput, total } = await killRepeatedly(context, 'ctx.publish');
      const wrong = [...perInput].filter(([, count]) => count !== 1);
      expect(wrong, 'inputs without exactly one output').toEqual([]);
      expect(perInput.size).toBe(INPUTS);
      expect(total).toBe(INPUTS);
    }),
  );

  it(
    'publish() from the handler: duplicates (at least once)',
    { timeout: 60_000 },
    onPrivateRedis(async (context) => {
      const { perInput, total } = await killRepeatedly(context, 'publish');
      const duplicated = [...perInput.values()].filter((count) => count > 1).length;
      console.info(
        `[faults] outputs with publish(): ${total} outputs for ${INPUTS} inputs, ${duplicated} duplicated`,
      );
      expect(perInput.size).toBe(INPUTS);
      expect(duplicated).toBeGreaterThan(0);
    }),
  );
});

async function killRepeatedly(
  { server, admin, ledger }: FaultContext,
  via: 'ctx.publish' | 'publish',
): Promise<{ perInput: Map<string, number>; total: number }> {
  const stream = 'sv:outputs';
  const out = 'sv:outputs:out';
  const group = 'g';
  const config: WorkerConfig = {
    url: server.url,
    stream,
    group,
    consumers: ['worker'],
    concurrency: 16,
    blockMs: 200,
    // After its output, each handler waits a little: most kills land between an output and an ack.
    handlerMs: [2, 8],
    output: { stream: out, via },
  };
  const inputs = await publishMany(admin, stream, INPUTS, ledger);
  for (let kill = 1; kill <= KILLS; kill++) {
    const worker = startWorker(config, ledger, `worker ${kill}`);
    try {
      await within(worker.ready, 20_000, `worker ${kill} to be ready`);
      // Kill it once it has done a share of the work (each run first re-processes what the last left).
      await eventually(
        () => worker.handled >= INPUTS / (KILLS + 2),
        20_000,
        `worker ${kill} to handle messages`,
      );
    } finally {
      await worker.kill();
    }
    expect((await pendingIds(admin, stream, group, 'worker')).length, 'pending at the kill').toBeGreaterThan(
      0,
    );
  }
  const last = startWorker(config, ledger, 'last worker');
  try {
    await within(last.ready, 20_000, 'the last worker to be ready');
    await eventually(
      async () => await allAcked(admin, stream, group, inputs),
      30_000,
      'every input to be acked',
    );
  } finally {
    expect((await last.stop(15_000)).code, last.tail()).toBe(0);
  }
  const perInput = new Map<string, number>();
  let total = 0;
  for (const [, fields] of await admin.xrange(out, '-', '+')) {
    const source = fields[fields.indexOf('x-source-id') + 1] ?? '';
    perInput.set(source, (perInput.get(source) ?? 0) + 1);
    total++;
  }
  return { perInput, total };
}

/** The group has delivered the last input and nothing is pending. */
async function allAcked(
  redis: Redis,
  stream: string,
  group: string,
  inputs: readonly string[],
): Promise<boolean> {
  if ((await pendingIds(redis, stream, group)).length > 0) return false;
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  const info = groups[0] ?? [];
  return info[info.indexOf('last-delivered-id') + 1] === inputs.at(-1);
}
