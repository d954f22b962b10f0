import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import {
  auditDeadLetters,
  delay,
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  publishMany,
  startDurableRedis,
  testLogger,
} from './fault-support.js';

// Fault 1: redis-server is SIGKILLed mid-stream and restarted with its data (AOF, appendfsync always).
// Consumers see connection errors, go to `backoff` (not a crash: no restart), come back, and every
// message is handled. Entries whose XREADGROUP reply died with the server are in the PEL of a consumer
// that never saw them: claim recovery (XAUTOCLAIM past claim.minIdleMs) hands them out again.

afterEach(() => expectNoLeaks());

describe('fault: Redis SIGKILLed and restarted with its data', () => {
  it(
    'consumers back off, resume, and lose nothing',
    { timeout: 60_000 },
    onPrivateRedis(scenario, startDurableRedis),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:killed';
  const group = 'g';
  const router = new Router();
  router.on('job', async (message, ctx) => {
    await delay(1 + (Number(message.id.split('-')[1]) % 3));
    ledger.handled(message.id, String(ctx.log.bindings().consumer));
  });
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router,
      logger: testLogger(),
      consumers: ['k1', 'k2'].map((consumer) => ({
        stream,
        group,
        consumer,
        id: consumer,
        startId: '0',
        concurrency: 8,
        blockMs: 300,
        claim: { minIdleMs: 1500, intervalMs: 500 },
      })),
    }),
  );
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  try {
    await publishMany(admin, stream, 3000, ledger);
    await runtime.start();
    await ledger.waitFor(() => ledger.handledCount >= 500, 15_000, '500 handled before the kill');

    await server.kill('SIGKILL');
    await eventually(
      () =>
        ['k1', 'k2'].every((c) => events.some((e) => e.type === 'consumer.backoff' && e.consumerId === c)),
      10_000,
      'both consumers to back off',
    );
    await delay(500);
    await server.restart({ keepData: true });

    await publishMany(admin, stream, 1000, ledger);
    await ledger.waitUntilSettled(ledger.publishedIds, 30_000);
  } finally {
    await runtime.stop({ timeoutMs: 5000 });
  }
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('redis killed', ledger);
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.paths).toEqual({});
  expect(await pendingIds(admin, stream, group)).toEqual([]);
  expect(events.filter((e) => e.type === 'consumer.restarted' || e.type === 'runtime.failed')).toEqual([]);
  expect(runtime.status).toBe('stopped');
}
