import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Poison messages on the shared Redis: too many deliveries end in the dead-letter stream.

const prefix = uniquePrefix();
afterEach(() => expectNoLeaks());
afterAll(() => cleanupKeys(prefix));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('poison messages', () => {
  it('dead-letters a message over maxDeliveries (max-deliveries) while 1,000 others flow', async () => {
    const stream = `${prefix}:flow`;
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    await storage.ensureGroup(stream, 'g', '0');
    const poisonId = await storage.add(stream, { type: 'job', payload: '{"poison":true}' });
    // A consumer that crashed on it four times, then vanished.
    await storage.readGroup(stream, 'g', 'crashed', { count: 1 });
    for (let i = 0; i < 3; i++) await storage.claim(stream, 'g', 'crashed', [poisonId], { minIdleMs: 0 });
    let poisonCalls = 0;
    let handled = 0;
    const router = new Router();
    router.on('job', (message) => {
      if ((message.payload as { poison?: boolean }).poison) poisonCalls++;
      else handled++;
    });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: pino({ level: 'silent' }),
        consumers: [
          {
            stream,
            group: 'g',
            consumer: 'live',
            concurrency: 16,
            blockMs: 200,
            claim: { minIdleMs: 100, intervalMs: 200 },
            deadLetter: { maxDeliveries: 4 },
          },
        ],
      }),
    );
    await runtime.start();
    const producer = RedisStreamStorage.fromUrl(sharedRedisUrl());
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          producer.add(stream, { type: 'job', payload: `{"n":${i + j}}` }),
        ),
      );
    }
    await producer.close();
    await waitFor('1,000 messages', async () => (handled >= 1000 ? true : undefined), 8000);
    const dead = await waitFor(
      'the dead letter',
      async () => {
        const entries = await storage.range(`${stream}:dead`);
        return entries.length > 0 ? entries : undefined;
      },
      3000,
    );
    expect(poisonCalls).toBe(0);
    expect(handled).toBe(1000);
    expect(dead.map((l) => l.fields)).toEqual([
      {
        type: 'job',
        payload: '{"poison":true}',
        'x-dead-reason': 'max-deliveries',
        'x-dead-error': 'Delivered 5 times, over deadLetter.maxDeliveries 4',
        'x-source-stream': stream,
        'x-source-id': poisonId,
        'x-group': 'g',
        'x-deliveries': '5',
        'x-dead-at': expect.stringMatching(/^\d{13}$/),
      },
    ]);
    await waitFor(
      'an empty PEL',
      async () => ((await storage.pending(stream, 'g', { count: 10 })).length === 0 ? true : undefined),
      2000,
    );
    expect(runtime.snapshot().consumers[0]).toMatchObject({
      processed: 1000,
      deadLetteredByReason: { 'max-deliveries': 1 },
    });
    await runtime.stop();
  });

  it('ends the crash loop of a process that dies on one message: max-deliveries after the restarts', async () => {
    const stream = `${prefix}:crash`;
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    try {
      await storage.ensureGroup(stream, 'g', '0');
      const poisonId = await storage.add(stream, { type: 'poison', payload: '{}' });
      const okId = await storage.add(stream, { type: 'ok', payload: '{}' });
      const child = fileURLToPath(new URL('./retry-crash-child.ts', import.meta.url));
      const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
      const runs: string[][] = [];
      let deadSeen = false;
      for (let run = 0; run < 6 && !deadSeen; run++) {
        let text = '';
        const proc: ChildProcess = spawn(tsx, [child], {
          env: {
            ...process.env,
            REDIS_URL: sharedRedisUrl(),
            STREAM: stream,
            GROUP: 'g',
            MAX_DELIVERIES: '3',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        proc.stdout!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
          proc.once('exit', (code, signal) => resolve(signal ?? code)),
        );
        const outcome = await Promise.race([
          exited.then((how) => ({ how })),
          waitFor(
            'the dead letter',
            async () => ((await storage.length(`${stream}:dead`)) > 0 ? { how: 'dead-lettered' } : undefined),
            8000,
          ),
        ]);
        if (outcome.how === 'dead-lettered') {
          deadSeen = true;
          proc.kill('SIGTERM');
          await exited;
        }
        runs.push(text.split('\n').filter((line) => line !== ''));
      }
      // Run 1 read it (1 delivery), runs 2 and 3 re-claimed it from their own PEL (2, 3): all died.
      // Run 4 claimed it a fourth time, over maxDeliveries 3: dead-lettered without calling the handler.
      expect(
        runs.map((output) => output.filter((line) => line !== 'ready' && !line.startsWith('handled'))),
      ).toEqual([['dying'], ['dying'], ['dying'], [`dead ${poisonId} max-deliveries`]]);
      expect(runs.flat()).toContain(`handled ${okId}`);
      const [letter] = await storage.range(`${stream}:dead`);
      expect(letter?.fields).toMatchObject({
        type: 'poison',
        'x-dead-reason': 'max-deliveries',
        'x-deliveries': '4',
        'x-source-id': poisonId,
      });
      expect(await storage.pending(stream, 'g', { count: 10 })).toEqual([]);
    } finally {
      await storage.close();
    }
  }, 20_000);
});
