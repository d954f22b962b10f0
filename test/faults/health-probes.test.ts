import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, startDashboard } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { delay, eventually, type FaultContext, onPrivateRedis, testLogger } from './fault-support.js';

// Kubernetes probes through a Redis outage: redis-server is SIGKILLed, then restarted. `/readyz`
// (readiness: take the pod out of rotation) turns 503 with the consumer's reason while Redis is down
// and 200 once it reads again; `/healthz` (liveness: restart the pod) stays 200 all along, since a
// connection loss is not a crash and a pod restart would not bring Redis back.

afterEach(() => expectNoLeaks());

describe('fault: health probes while Redis is killed and restarted', () => {
  it('/readyz turns 503 and back to 200; /healthz stays 200', { timeout: 60_000 }, onPrivateRedis(scenario));
});

async function scenario({ server }: FaultContext): Promise<void> {
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router: new Router(),
      logger: testLogger(),
      consumers: [{ id: 'p1', stream: 'sv:probes', group: 'g', blockMs: 200 }],
    }),
  );
  const dashboard = await startDashboard(runtime, { port: 0, token: 'secret' });
  const probe = async (path: '/healthz' | '/readyz') => {
    const response = await fetch(new URL(path, dashboard.url));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const live: number[] = [];
  const watchLiveness = (async () => {
    while (runtime.status !== 'stopping' && runtime.status !== 'stopped') {
      live.push((await probe('/healthz')).status);
      await delay(50);
    }
  })();
  try {
    await runtime.start();
    await eventually(async () => (await probe('/readyz')).status === 200, 5000, '/readyz 200 at start');

    await server.kill('SIGKILL');
    await eventually(async () => (await probe('/readyz')).status === 503, 10_000, '/readyz 503');
    // It stays 503 while Redis is down (the consumer cycles backoff → creatingGroup → backoff).
    for (let i = 0; i < 10; i++) {
      const ready = await probe('/readyz');
      expect(ready.status).toBe(503);
      const [consumer] = ready.body.consumers as Array<{ id: string; state: string; reason: string }>;
      expect(consumer).toMatchObject({ id: 'p1', ready: false });
      expect(['backoff', 'creatingGroup']).toContain(consumer?.state);
      await delay(100);
    }
    const down = (await probe('/readyz')).body.consumers as Array<{ reason: string }>;
    expect(down[0]?.reason).toMatch(/connection error|consumer group/);

    await server.restart();
    await eventually(async () => (await probe('/readyz')).status === 200, 15_000, '/readyz 200 again');
    expect((await probe('/readyz')).body).toMatchObject({ ready: true, status: 'running' });
  } finally {
    await runtime.stop({ timeoutMs: 2000 });
    await watchLiveness;
    await dashboard.close();
  }
  expect(live.length).toBeGreaterThan(20);
  expect(new Set(live)).toEqual(new Set([200]));
}
