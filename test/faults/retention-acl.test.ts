import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { delay, eventually, RUNTIME_COMMANDS, testClient } from './fault-support.js';

// The ACL documented in docs/operations.md for `retention`: the runtime's commands plus what the trim
// script calls. A private redis-server with a user limited to exactly those.

/** What `retention` adds to the runtime's minimal ACL (docs/operations.md). */
const RETENTION_COMMANDS = ['xtrim', 'exists', 'time'];

afterEach(() => expectNoLeaks());

describe('retention with a least-privilege ACL user', () => {
  it('trims with only the documented commands, keepMs (the server TIME) included', {
    timeout: 30_000,
  }, async () => {
    const acl = ['sv-app', 'on', '>app-pass', '~sv:*', 'resetchannels', '-@all'];
    for (const command of [...RUNTIME_COMMANDS, ...RETENTION_COMMANDS]) acl.push(`+${command}`);
    const server = await startRedisServer({ args: ['--user', ...acl] });
    const admin = testClient(server.url);
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const stream = 'sv:retained';
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(`redis://sv-app:app-pass@127.0.0.1:${server.port}`),
        router: new Router().on('job', () => {}),
        logger,
        consumers: [
          {
            stream,
            group: 'g',
            consumer: 'app',
            startId: '0',
            blockMs: 200,
            retention: { intervalMs: 100, keepMs: 1 },
          },
        ],
      }),
    );
    try {
      for (let i = 0; i < 20; i++) await admin.xadd(stream, '*', 'type', 'job', 'payload', '{}');
      await runtime.start();
      await eventually(() => runtime.snapshot().consumers[0]!.trimmed === 20, 10_000, '20 entries trimmed');
      await delay(300);
      expect(await admin.xlen(stream)).toBe(0);
      expect(lines.filter((line) => /NOPERM|could not trim/.test(line))).toEqual([]);
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
      admin.disconnect();
      await server.stop();
    }
  });
});
