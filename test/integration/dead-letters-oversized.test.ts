import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Dashboard,
  RedisStreamStorage,
  Router,
  startDashboard,
} from '../../src/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Issue 25, item 6: 20 dead letters of 8 MiB made one view of the dashboard return 168 MB of JSON
// (RSS 300 → 1,090 MB). The list the page reads must be a bounded preview that still tells each
// entry's true size; the whole entry comes only on request, and over the limit it is refused with
// its size (413), not read. Real Redis, real HTTP, the page's own endpoints; the CLI the same way.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MIB = 1024 * 1024;
const BIG = 20;
const prefix = uniquePrefix();
const stream = `${prefix}:orders`;
const dead = `${stream}:dead`;
const blob = JSON.stringify({ blob: 'x'.repeat(8 * MIB - 11) }); // exactly 8 MiB
const headers = (n: number) => ({
  'x-dead-reason': 'handler-error',
  'x-dead-error': `too big to handle ${n}`,
  'x-source-stream': stream,
  'x-source-id': `${n}-0`,
  'x-group': 'billing',
  'x-deliveries': '1',
  'x-dead-at': String(Date.now()),
});
const small = { type: 'order.paid', payload: '{"orderId":7}', 'x-tenant': 'acme', ...headers(99) };
const sizeOf = (fields: Record<string, string>) =>
  Object.entries(fields).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL: sharedRedisUrl() },
        timeout: 30_000,
        maxBuffer: 512 * MIB,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let admin: Redis;
let storage: RedisStreamStorage;
let dashboard: Dashboard;
let stop: () => Promise<void>;
const bigIds: string[] = [];
const bigSizes: number[] = [];
let smallId = '';

beforeAll(async () => {
  admin = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
  for (let n = 0; n < BIG; n++) {
    const fields = { type: 'order.paid', payload: blob, ...headers(n) };
    bigIds.push((await admin.xadd(dead, '*', ...Object.entries(fields).flat())) as string);
    bigSizes.push(sizeOf(fields));
  }
  smallId = (await admin.xadd(dead, '*', ...Object.entries(small).flat())) as string;
  storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  const runtime = createRuntime({
    storage,
    router: new Router(),
    consumers: [{ stream, group: 'billing' }],
    logger: pino({ level: 'silent' }),
  });
  dashboard = await startDashboard(runtime, { port: 0 });
  stop = () => runtime.stop();
}, 60_000);

afterAll(async () => {
  await dashboard?.close();
  await stop?.();
  await storage?.close();
  await cleanupKeys(prefix);
  await admin?.quit();
});

describe('oversized dead letters (issue 25, item 6)', () => {
  it('the list the page reads is a bounded preview that reports every true size', async () => {
    const url = new URL(`api/dead-letters/${encodeURIComponent(stream)}?limit=20`, dashboard.url);
    const heapBefore = process.memoryUsage().heapUsed;
    const response = await fetch(url);
    const text = await response.text();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(response.status).toBe(200);
    // The old code answered ~168 MB here (the 20 entries whole, as JSON).
    expect(Buffer.byteLength(text)).toBeLessThan(MIB);
    const page = JSON.parse(text) as {
      total: number;
      counts: Record<string, number>;
      letters: {
        id: string;
        bytes: number;
        reason: string;
        error: string;
        fields: Record<string, string>;
        truncated: Record<string, number>;
      }[];
    };
    expect(page.total).toBe(BIG + 1);
    expect(page.counts).toEqual({ 'handler-error': BIG + 1 });
    const byId = new Map(page.letters.map((letter) => [letter.id, letter]));
    // Newest first: the small one, then 19 of the 20 big ones.
    expect(page.letters[0]).toMatchObject({ id: smallId, bytes: sizeOf(small), truncated: {} });
    for (const [i, id] of bigIds.slice(1).entries()) {
      const letter = byId.get(id);
      expect(letter?.bytes).toBe(bigSizes[i + 1]);
      expect(letter?.truncated).toEqual({ payload: 8 * MIB });
      expect(letter?.fields.payload).toHaveLength(1024);
      expect(letter?.error).toBe(`too big to handle ${i + 1}`);
    }
    process.stdout.write(
      `list of ${page.letters.length} (of ${page.total}, ${BIG} × 8 MiB): ${Buffer.byteLength(text)} bytes of JSON, heap +${Math.round(heapGrowth / MIB)} MiB\n`,
    );
  });

  it('the whole entry only on request: over the limit a 413 names its size and the limit', async () => {
    const id = bigIds[0] ?? '';
    const response = await fetch(
      new URL(`api/dead-letters/${encodeURIComponent(stream)}/${id}`, dashboard.url),
    );
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: string; bytes: number; limit: number };
    expect(body).toMatchObject({ bytes: bigSizes[0], limit: MIB });
    expect(body.error).toContain(`${bigSizes[0]} bytes, over the limit of ${MIB} bytes`);
    expect(body.error).toContain(`--max-bytes ${bigSizes[0]}`);

    const whole = await fetch(
      new URL(`api/dead-letters/${encodeURIComponent(stream)}/${smallId}`, dashboard.url),
    );
    expect(whole.status).toBe(200);
    const { letter } = (await whole.json()) as { letter: { fields: Record<string, string>; bytes: number } };
    expect(letter.fields).toEqual({ type: 'order.paid', payload: '{"orderId":7}', 'x-tenant': 'acme' });
    expect(letter.bytes).toBe(sizeOf(small));
  });

  it('the CLI: dlq list is a preview with sizes; dlq show refuses over --max-bytes and says what to do', async () => {
    const list = await cli(['dlq', 'list', '--stream', stream, '--json']);
    expect(list.code).toBe(0);
    expect(Buffer.byteLength(list.stdout)).toBeLessThan(MIB);
    const letters = JSON.parse(list.stdout) as { id: string; bytes: number }[];
    expect(letters.map((l) => l.bytes)).toEqual([...bigSizes, sizeOf(small)]);

    const id = bigIds[0] ?? '';
    const refused = await cli(['dlq', 'show', '--stream', stream, '--id', id]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`is ${bigSizes[0]} bytes, over the limit of ${MIB} bytes`);
    expect(refused.stderr).toContain(`pass --max-bytes ${bigSizes[0]}`);

    const shown = await cli(['dlq', 'show', '--stream', stream, '--id', smallId, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ bytes: sizeOf(small), fields: { 'x-tenant': 'acme' } });
  }, 60_000);
});
