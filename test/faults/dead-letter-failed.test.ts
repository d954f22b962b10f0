// A dead-letter write that fails for real: the app's ACL user may not write the dead-letter stream
// (NOPERM), so the XADD of the dead-letter script is refused. The failure must be logged at error,
// emitted as an event, counted in the snapshot and in Prometheus, and the message, which stays
// pending and comes back through claims, must be dead-lettered with its first reason once the
// write is allowed, not as `max-deliveries` after enough claims.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/dashboard/metrics.js';
import {
  createRuntime,
  NonRetryableError,
  RedisStreamStorage,
  Router,
  type RuntimeEvent,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { eventually, testClient } from './fault-support.js';

afterEach(() => expectNoLeaks());

describe('fault: the dead-letter write fails (ACL NOPERM on the dead-letter stream)', () => {
  it('is logged, emitted and counted, and the message keeps its first reason', {
    timeout: 30_000,
  }, async () => {
    // Keys `orders` only: `orders:dead` is out of reach until the test grants it.
    const acl = ['app', 'on', '>app-pass', '~orders', 'resetchannels', '+@all'];
    const server = await startRedisServer({ args: ['--user', ...acl] });
    const admin = testClient(server.url);
    const lines: string[] = [];
    const events: RuntimeEvent[] = [];
    let calls = 0;
    const router = new Router();
    router.on('charge', () => {
      calls++;
      throw new NonRetryableError('card declined');
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(`redis://app:app-pass@127.0.0.1:${server.port}`),
        router,
        logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
        consumers: [
          {
            stream: 'orders',
            group: 'billing',
            blockMs: 100,
            claim: { minIdleMs: 100, intervalMs: 100 },
            deadLetter: { maxDeliveries: 2 },
          },
        ],
      }),
    );
    runtime.subscribe((event) => events.push(event));
    const metrics = createMetrics(runtime);
    try {
      await runtime.start();
      const id = await admin.xadd('orders', '*', 'type', 'charge', 'payload', '{"amount":5}');
      // Past maxDeliveries while the dead letter cannot be written.
      const deliveries = async () => {
        const [entry] = (await admin.xpending('orders', 'billing', '-', '+', 1)) as [
          string,
          string,
          number,
          number,
        ][];
        return Number(entry?.[3] ?? 0);
      };
      await eventually(
        async () => (await deliveries()) > 3,
        10_000,
        'more deliveries than deadLetter.maxDeliveries',
      );
      const failed = events.filter((e) => e.type === 'message.dead-letter-failed');
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(failed[0]).toMatchObject({
        messageId: id,
        reason: 'non-retryable',
        error: 'card declined',
        failure: expect.stringMatching(/NOPERM/),
      });
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const errorLines = logged.filter((l) => l.level === 50 && l.messageId === id);
      expect(errorLines.length).toBeGreaterThanOrEqual(1);
      expect(errorLines[0]).toMatchObject({ reason: 'non-retryable', deadStream: 'orders:dead' });
      expect(String(errorLines[0]!.msg)).toMatch(/could not write the dead letter/);
      const counted = runtime.snapshot().consumers[0]!.deadLetterFailures;
      expect(counted).toBeGreaterThanOrEqual(failed.length);
      const exposition = parsePrometheusText(await metrics.metrics());
      expect(
        sampleValue(exposition, 'streamvisor_dead_letter_failures_total', {
          stream: 'orders',
          group: 'billing',
        }),
      ).toBe(counted);
      expect(calls).toBe(1); // later deliveries go straight back to the dead-letter write

      await admin.call('ACL', 'SETUSER', 'app', '~orders:dead');
      await eventually(async () => (await admin.xlen('orders:dead')) === 1, 5000, 'the dead letter');
      const [[, flat]] = (await admin.xrange('orders:dead', '-', '+')) as [[string, string[]]];
      const fields = Object.fromEntries(
        flat.map((v, i, all) => (i % 2 === 0 ? [v, all[i + 1]] : null)).filter((x) => x !== null) as [
          string,
          string,
        ][],
      );
      expect(fields).toMatchObject({
        type: 'charge',
        'x-dead-reason': 'non-retryable',
        'x-dead-error': 'card declined',
        'x-source-id': id,
      });
      await eventually(
        async () => Number((await admin.xpending('orders', 'billing'))[0]) === 0,
        5000,
        'the ack',
      );
      expect(events.filter((e) => e.type === 'message.dead-lettered')).toMatchObject([
        { messageId: id, reason: 'non-retryable' },
      ]);
      expect(calls).toBe(1);
    } finally {
      metrics.close();
      await runtime.stop();
      admin.disconnect();
      await server.stop();
    }
  });
});
