import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { delay, eventually, testClient } from './fault-support.js';

// Issue 25, item 10: the minimal ACL of docs/operations.md lacked `xinfo|consumers` and
// `xgroup|delconsumer`, which the default stale-consumer cleanup needs; the cleanup then failed at
// debug level on every interval. The ACL is read from the document itself, run by a private
// redis-server's user.

afterEach(() => expectNoLeaks());

/** The `+command` grants of the documented `ACL SETUSER streamvisor …`. */
function documentedGrants(): string[] {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const block = /```\n(ACL SETUSER streamvisor[^`]*)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/operations.md has no ACL SETUSER streamvisor block');
  return block.split(/\s+/).filter((word) => word.startsWith('+'));
}

interface Line {
  level: number;
  msg: string;
}

async function runCleanup(grants: string[], runForMs: number) {
  const server = await startRedisServer({
    args: ['--user', 'sv-app', 'on', '>app-pass', '~sv:*', 'resetchannels', '-@all', ...grants],
  });
  const admin = testClient(server.url);
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const stream = 'sv:stale';
  await admin.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  await admin.call('XGROUP', 'CREATECONSUMER', stream, 'g', 'ghost-4711');
  const runtime = trackRuntime(
    createRuntime({
      // The documented ACL has no +info (optional): skip ioredis' ready check rather than print about it.
      storage: RedisStreamStorage.fromUrl(`redis://sv-app:app-pass@127.0.0.1:${server.port}`, {
        redis: { enableReadyCheck: false },
      }),
      router: new Router(),
      logger,
      consumers: [
        {
          stream,
          group: 'g',
          consumer: 'app',
          blockMs: 100,
          staleConsumerMs: 1,
          claim: { minIdleMs: 1000, intervalMs: 100 },
        },
      ],
      supervisor: { maxRestarts: 0 },
    }),
  );
  const consumers = async () =>
    ((await admin.call('XINFO', 'CONSUMERS', stream, 'g')) as unknown[][]).map((c) => String(c[1]));
  return {
    lines,
    consumers,
    async run(until?: () => Promise<boolean>) {
      try {
        await runtime.start();
        if (until) await eventually(until, runForMs, 'the stale consumer removed');
        else await delay(runForMs);
        expect(runtime.status).toBe('running');
      } finally {
        await runtime.stop({ timeoutMs: 2000 });
      }
    },
    async close() {
      admin.disconnect();
      await server.stop();
    },
  };
}

describe('the stale-consumer cleanup under a minimal ACL', () => {
  it('the ACL of docs/operations.md lets it remove a dead consumer’s name, with no NOPERM', {
    timeout: 30_000,
  }, async () => {
    const grants = documentedGrants();
    expect(grants).toEqual(expect.arrayContaining(['+xinfo|consumers', '+xgroup|delconsumer']));
    const cleanup = await runCleanup(grants, 10_000);
    try {
      expect(await cleanup.consumers()).toContain('ghost-4711');
      await cleanup.run(async () => !(await cleanup.consumers()).includes('ghost-4711'));
      expect(await cleanup.consumers()).not.toContain('ghost-4711');
      expect(cleanup.lines.filter((line) => /NOPERM|stale consumers/.test(JSON.stringify(line)))).toEqual([
        expect.objectContaining({ msg: 'removed stale consumers with nothing pending' }),
      ]);
    } finally {
      await cleanup.close();
    }
  });

  it('without xinfo|consumers it warns once naming the command, then only at debug, and keeps consuming', {
    timeout: 30_000,
  }, async () => {
    const grants = documentedGrants().filter((g) => g !== '+xinfo|consumers');
    const cleanup = await runCleanup(grants, 1500);
    try {
      await cleanup.run();
      const refused = cleanup.lines.filter((line) => line.msg.startsWith('could not remove stale consumers'));
      expect(refused.length).toBeGreaterThan(3); // every 100 ms for 1.5 s
      expect(refused.filter((line) => line.level === 40)).toEqual([
        expect.objectContaining({
          // Redis 7.0 does not say which command a script was refused; 7.2+ does.
          msg: expect.stringMatching(
            /may not run (xinfo\|consumers|XINFO CONSUMERS or XGROUP DELCONSUMER).*; grant \+xinfo\|consumers/,
          ),
        }),
      ]);
      expect(refused.slice(1).every((line) => line.level === 20)).toBe(true);
      expect(await cleanup.consumers()).toContain('ghost-4711');
    } finally {
      await cleanup.close();
    }
  });
});
