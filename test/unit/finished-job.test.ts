import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { DispatchJob } from '../../src/actors/dispatch/dispatch-job.js';
import type { WorkerSlot } from '../../src/actors/dispatch/worker-slot.js';
import {
  createRuntime,
  type HandlerContext,
  MemoryStreamStorage,
  NonRetryableError,
  Router,
  type Runtime,
} from '../../src/index.js';
import { trackRuntime } from '../helpers/leak-guard.js';
import { memoryLogger, waitUntil } from './retry-support.js';

// A job that left its pool must not carry its message any more: XState's transition objects keep a
// worker's last context and event reachable until the next full GC (docs/performance.md), and every
// scavenge until then copies whatever the job still reaches.

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

/**
 * Runs `router` over `types`, one message at a time (so each is its own busy period and reaches its
 * worker in a `run` event); returns the job of each.
 */
async function run(router: Router, types: string[], logger = memoryLogger().logger): Promise<DispatchJob[]> {
  const storage = new MemoryStreamStorage();
  const jobs: DispatchJob[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.event' && event.event.type === 'run')
      jobs.push((event.event.job as WorkerSlot).job as DispatchJob);
  };
  runtime = trackRuntime(
    createRuntime({
      storage,
      router,
      inspect,
      logger,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', startId: '0', blockMs: 50, concurrency: 2 }],
    }),
  );
  await runtime.start();
  for (const [k, type] of types.entries()) {
    await storage.add('s', { type, payload: JSON.stringify({ type }) });
    await waitUntil(
      async () => jobs.length === k + 1 && (await storage.pending('s', 'g', { count: 1 })).length === 0,
    );
  }
  return jobs;
}

describe('a job that left its pool', () => {
  it('drops its entry and message once acked or dead-lettered', async () => {
    const router = new Router()
      .on('ok', () => {})
      .on('dead', () => {
        throw new NonRetryableError('no');
      });
    const jobs = await run(router, ['ok', 'dead', 'ok']);
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      expect(job.message).toBeNull();
      expect(job.routes).toBeNull();
      expect(() => job.entry).toThrow(`Message ${job.id} already left its consumer`);
    }
  });

  it("still logs its message's type from a handler that logs after the message was acked", async () => {
    const { logger, records } = memoryLogger();
    let kept: HandlerContext<unknown> | undefined;
    const router = new Router().on('late', (_message, ctx) => {
      kept = ctx;
    });
    const [job] = await run(router, ['late'], logger);
    expect(job?.message).toBeNull();
    kept?.log.info('after the ack');
    expect(records.find((record) => record.msg === 'after the ack')).toMatchObject({
      messageId: job?.id,
      messageType: 'late',
    });
  });
});
