import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  createRuntime,
  MemoryStreamStorage,
  Router,
  startDashboard,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';

// runtime.health() through the life of a runtime, on the in-memory storage with faults injected;
// and the dashboard's /healthz and /readyz, which need no token. (Against a real redis-server that
// is killed and restarted: test/faults/health-probes.test.ts.)

afterEach(() => expectNoLeaks());

/** A memory storage whose group creation fails with `failure()` while it returns an error. */
class FlakyStorage extends MemoryStreamStorage {
  failure: () => Error | null = () => null;
  override ensureGroup(stream: string, group: string, startId: string): Promise<boolean> {
    const error = this.failure();
    return error === null ? super.ensureGroup(stream, group, startId) : Promise.reject(error);
  }
}

function runtimeOn(storage: MemoryStreamStorage, maxRestarts = 10) {
  return trackRuntime(
    createRuntime({
      storage,
      router: new Router(),
      logger: pino({ level: 'silent' }),
      supervisor: { maxRestarts, periodMs: 60_000, backoff: { minMs: 10, maxMs: 20 } },
      consumers: [
        { id: 'a', stream: 's', group: 'g', blockMs: 50 },
        { id: 'b', stream: 't', group: 'g', blockMs: 50 },
      ],
    }),
  );
}

describe('runtime.health()', () => {
  it('idle before start, live and ready while reading, neither once stopped', async () => {
    const runtime = runtimeOn(new MemoryStreamStorage());
    expect(runtime.health()).toEqual({
      live: true,
      ready: false,
      status: 'idle',
      consumers: [
        { id: 'a', state: 'idle', ready: false, reason: 'start() was not called' },
        { id: 'b', state: 'idle', ready: false, reason: 'start() was not called' },
      ],
    });
    await runtime.start();
    const running = runtime.health();
    expect(running).toMatchObject({ live: true, ready: true, status: 'running' });
    for (const consumer of running.consumers) {
      expect(consumer.ready).toBe(true);
      expect(['polling', 'dispatching', 'recovering']).toContain(consumer.state);
      expect(consumer).not.toHaveProperty('reason');
    }
    await runtime.stop();
    expect(runtime.health()).toMatchObject({ live: false, ready: false, status: 'stopped' });
  });

  it('not ready while a consumer backs off from a connection error, with the error as reason; ready again after', async () => {
    const storage = new FlakyStorage();
    let down = false;
    storage.failure = () => (down ? new ConnectionError('connect ECONNREFUSED 127.0.0.1:1') : null);
    const runtime = runtimeOn(storage);
    await runtime.start();
    down = true;
    // The next group creation happens after a restart or a backoff: force one with a NOGROUP.
    await storage.destroyGroup('s', 'g');
    await vi.waitFor(
      () => {
        const health = runtime.health();
        expect(health).toMatchObject({ live: true, ready: false });
        const a = health.consumers.find((consumer) => consumer.id === 'a');
        expect(a).toMatchObject({ ready: false });
        expect(['backoff', 'creatingGroup', 'restarting']).toContain(a?.state);
        if (a?.state !== 'restarting') expect(a?.reason).toContain('ECONNREFUSED');
        expect(health.consumers.find((consumer) => consumer.id === 'b')).toMatchObject({ ready: true });
      },
      { timeout: 3000 },
    );
    await vi.waitFor(() => expect(runtime.health().consumers[0]?.state).toBe('backoff'), { timeout: 3000 });
    expect(runtime.health().consumers[0]?.reason).toBe(
      'backing off after a connection error: connect ECONNREFUSED 127.0.0.1:1',
    );
    down = false;
    await vi.waitFor(() => expect(runtime.health().ready).toBe(true), { timeout: 5000 });
    await runtime.stop();
  });

  it('not live once the supervisor escalated (restart limit passed)', async () => {
    const storage = new FlakyStorage();
    const runtime = runtimeOn(storage, 1);
    await runtime.start();
    storage.failure = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    await storage.destroyGroup('s', 'g');
    await vi.waitFor(() => expect(runtime.status).toBe('failed'), { timeout: 5000 });
    const health = runtime.health();
    expect(health).toMatchObject({ live: false, ready: false, status: 'failed' });
    expect(health.consumers.find((consumer) => consumer.id === 'a')).toMatchObject({
      ready: false,
      reason: expect.stringContaining('WRONGTYPE'),
    });
    expect(health.consumers.find((consumer) => consumer.id === 'b')).toMatchObject({
      ready: false,
      reason: expect.stringMatching(/failed|exited|stopped/),
    });
    await runtime.stop();
  });
});

describe('dashboard probes', () => {
  it('/healthz and /readyz answer without the token; 503 and reasons once stopped', async () => {
    const runtime = runtimeOn(new MemoryStreamStorage());
    await runtime.start();
    const dashboard = await startDashboard(runtime, { port: 0, token: 'secret' });
    const get = async (path: string) => {
      const response = await fetch(new URL(path, dashboard.url));
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: await response.json(),
      };
    };
    try {
      expect(await get('/healthz')).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { live: true, status: 'running' },
      });
      const ready = await get('/readyz');
      expect(ready).toMatchObject({ status: 200, body: { ready: true, status: 'running' } });
      expect(ready.body.consumers.map((c: { id: string }) => c.id)).toEqual(['a', 'b']);
      expect((await fetch(new URL('/metrics', dashboard.url))).status).toBe(401);
      expect((await fetch(new URL('/readyz', dashboard.url), { method: 'HEAD' })).status).toBe(200);

      await runtime.stop();
      expect(await get('/healthz')).toMatchObject({ status: 503, body: { live: false, status: 'stopped' } });
      const stopped = await get('/readyz');
      expect(stopped).toMatchObject({ status: 503, body: { ready: false, status: 'stopped' } });
      expect(stopped.body.consumers[0]).toMatchObject({ id: 'a', ready: false, reason: expect.any(String) });
    } finally {
      await dashboard.close();
      await runtime.stop();
    }
  });
});
