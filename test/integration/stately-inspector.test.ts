// The bridge to the Stately inspector: `@statelyai/inspect`'s WebSocket inspector passed as the
// runtime's `inspect` option, relayed by its local inspector server, read back by a WebSocket
// receiver. Everything stays on loopback; the hosted Stately UI is not involved.
import { createServer } from 'node:net';
import {
  createWebSocketInspector,
  createWebSocketReceiver,
  type StatelyInspectionEvent,
} from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { describe, expect, it, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('Stately inspector bridge', () => {
  it('relays @xstate.actor events of the supervisor and every consumer to a WebSocket receiver', async () => {
    const port = await freePort();
    const server = createInspectorServer({ port, autoOpen: false });
    const url = `ws://127.0.0.1:${port}`;
    const received: StatelyInspectionEvent[] = [];
    const subscription = createWebSocketReceiver({ server: url }).subscribe((event) => received.push(event));
    const inspector = createWebSocketInspector({ url });
    const storage = new MemoryStreamStorage();
    const router = new Router();
    router.on('ping', async () => {});
    const runtime = createRuntime({
      storage,
      router,
      inspect: inspector.inspect,
      consumers: [
        { id: 'orders', stream: 'orders', group: 'g', consumer: 'a', concurrency: 2, blockMs: 50 },
        { id: 'audit', stream: 'audit', group: 'g', consumer: 'a', concurrency: 1, blockMs: 50 },
      ],
    });
    try {
      await runtime.start();
      await storage.add('orders', { type: 'ping' });
      await vi.waitFor(
        () => {
          const actors = received.filter((e) => e.type === '@xstate.actor');
          const names = actors.map((e) => JSON.parse((e as { definition?: string }).definition ?? '{}').id);
          expect(names).toContain('supervisor');
          expect(names.filter((n) => n === 'consumer')).toHaveLength(2);
          expect(names.filter((n) => n === 'worker')).toHaveLength(3);
        },
        { timeout: 10_000, interval: 50 },
      );
      const consumerActors = received.filter(
        (e) =>
          e.type === '@xstate.actor' &&
          JSON.parse((e as { definition?: string }).definition ?? '{}').id === 'consumer',
      );
      const supervisor = received.find(
        (e) =>
          e.type === '@xstate.actor' &&
          JSON.parse((e as { definition?: string }).definition ?? '{}').id === 'supervisor',
      )!;
      // The consumers are children of the supervisor, so the inspector can draw the tree.
      for (const consumer of consumerActors)
        expect((consumer as { parentId?: string }).parentId).toBe(supervisor.sessionId);
      await vi.waitFor(() => expect(received.some((e) => e.type === '@xstate.snapshot')).toBe(true));
    } finally {
      await runtime.stop({ timeoutMs: 1000 });
      subscription.unsubscribe();
      inspector.stop();
      server.stop();
    }
  });

  it('attaches an inspection observer to a running runtime with runtime.inspect()', async () => {
    const storage = new MemoryStreamStorage();
    const router = new Router();
    router.on('ping', async () => {});
    const runtime = createRuntime({ storage, router, consumers: [{ stream: 's', group: 'g', blockMs: 50 }] });
    await runtime.start();
    const seen: InspectionEvent[] = [];
    const subscription = runtime.inspect((event) => seen.push(event));
    try {
      await storage.add('s', { type: 'ping' });
      await vi.waitFor(() => expect(runtime.snapshot().consumers[0]!.processed).toBe(1));
      expect(seen.some((e) => e.type === '@xstate.event')).toBe(true);
      expect(seen.some((e) => e.type === '@xstate.snapshot')).toBe(true);
    } finally {
      subscription.unsubscribe();
      await runtime.stop({ timeoutMs: 1000 });
    }
  });
});
