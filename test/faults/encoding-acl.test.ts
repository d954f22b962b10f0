import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Message, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { eventually, testClient } from './fault-support.js';

// Issue 25, item 4, under the documented ACL (docs/operations.md, read from the document): checking
// the bytes of an entry read with U+FFFD takes an XRANGE. Without `+xrange` the check is refused:
// the consumer must not fail for it (the entry is used as decoded, as before, and a warning says
// which grant is missing); with `+xrange` the entry is dead-lettered malformed-encoding, bytes intact.

afterEach(() => expectNoLeaks());

function documentedGrants(): string[] {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const block = /```\n(ACL SETUSER streamvisor[^`]*)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/operations.md has no ACL SETUSER streamvisor block');
  return block.split(/\s+/).filter((word) => word.startsWith('+'));
}

const BAD = Buffer.from([0x66, 0xff, 0xfe, 0x6f]);

async function scenario(extraGrants: string[]) {
  const server = await startRedisServer({
    args: [
      '--user',
      'sv-app',
      'on',
      '>app-pass',
      '~sv:*',
      'resetchannels',
      '-@all',
      ...documentedGrants(),
      ...extraGrants,
    ],
  });
  const admin = testClient(server.url);
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const stream = 'sv:encoding';
  const id = String(await admin.xadd(stream, '*', 'type', 'job', 'payload', '{}', 'blob', BAD));
  const handled: Message[] = [];
  const router = new Router();
  router.on('job', (message) => {
    handled.push(message);
  });
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(`redis://sv-app:app-pass@127.0.0.1:${server.port}`, {
        redis: { enableReadyCheck: false },
        logger,
      }),
      router,
      logger,
      consumers: [{ stream, group: 'g', startId: '0', blockMs: 100, staleConsumerMs: false }],
      supervisor: { maxRestarts: 0 },
    }),
  );
  try {
    await runtime.start();
    await eventually(
      async () => handled.length + (await admin.xlen(`${stream}:dead`)) === 1,
      10_000,
      'the entry handled or dead-lettered',
    );
    expect(runtime.status).toBe('running');
    const dead = await admin.xrangeBuffer(`${stream}:dead`, '-', '+');
    return { id, handled, lines, dead };
  } finally {
    await runtime.stop({ timeoutMs: 2000 });
    admin.disconnect();
    await server.stop();
  }
}

describe('fault: an entry that is not UTF-8 under the documented ACL', () => {
  it('without +xrange: the consumer keeps running, uses the entry as decoded and names the grant', {
    timeout: 30_000,
  }, async () => {
    const { handled, lines, dead } = await scenario([]);
    expect(dead).toEqual([]);
    expect(handled.map((m) => m.fields.blob)).toEqual(['f\uFFFD\uFFFDo']);
    expect(lines.filter((l) => l.level === 40 && /grant \+xrange/.test(l.msg))).toHaveLength(1);
  });

  it('with +xrange: dead-lettered malformed-encoding, bytes intact', { timeout: 30_000 }, async () => {
    const { id, handled, dead } = await scenario(['+xrange']);
    expect(handled).toEqual([]);
    expect(dead).toHaveLength(1);
    const flat = dead[0]![1].map((part) => part.toString('latin1'));
    const at = (name: string) => flat[flat.indexOf(name) + 1];
    expect(at('x-dead-reason')).toBe('malformed-encoding');
    expect(at('x-source-id')).toBe(id);
    expect(dead[0]![1].slice(0, 6)).toEqual([
      Buffer.from('type'),
      Buffer.from('job'),
      Buffer.from('payload'),
      Buffer.from('{}'),
      Buffer.from('blob'),
      BAD,
    ]);
  });
});
