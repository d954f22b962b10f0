// Redis restarted empty on a server whose clock is behind: the new stream's ids are lower than the
// last id the consumer saw. Before: the group was recreated at that last id and every entry written
// below it was skipped, silently. Now the group starts at 0 for the new stream, with a warning and a
// `consumer.group-rewound` event. Explicit ids (`1-1` …) stand in for the slow clock.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { eventually, testClient, testLogger } from './fault-support.js';

afterEach(() => expectNoLeaks());

describe('fault: Redis restarted empty with a clock behind (lower ids)', () => {
  for (const order of ['published before the group is recreated', 'published after'] as const) {
    it(`all 20 entries with lower ids are handled (${order})`, { timeout: 30_000 }, async () => {
      const server = await startRedisServer();
      const admin = testClient(server.url);
      const handled: string[] = [];
      const events: RuntimeEvent[] = [];
      const router = new Router();
      router.on('t', (message) => void handled.push(message.id));
      const runtime = trackRuntime(
        createRuntime({
          storage: RedisStreamStorage.fromUrl(server.url),
          router,
          logger: testLogger(),
          consumers: [{ stream: 'orders', group: 'g', blockMs: 100 }],
        }),
      );
      runtime.subscribe((event) => events.push(event));
      try {
        await runtime.start();
        const seen = await admin.xadd('orders', '*', 'type', 't');
        await eventually(() => handled.includes(seen as string), 5000, 'the first message');
        const created = events.filter((e) => e.type === 'consumer.group-created').length;
        await server.restart({ keepData: false });
        const ids = Array.from({ length: 20 }, (_, i) => `1-${i + 1}`);
        const publish = async () => {
          for (const id of ids) await admin.xadd('orders', id, 'type', 't');
        };
        if (order === 'published before the group is recreated') await publish();
        await eventually(
          () => events.filter((e) => e.type === 'consumer.group-created').length > created,
          15_000,
          'the group recreated',
        );
        if (order === 'published after') await publish();
        await eventually(
          () => ids.every((id) => handled.includes(id)),
          10_000,
          'the 20 entries with low ids',
        );
        expect(events.filter((e) => e.type === 'consumer.group-rewound')).toMatchObject([
          { lastSeenId: seen, startId: '0' },
        ]);
        // Once rewound, the consumer's last id is the new stream's: the group destroyed again is
        // recreated at 1-20, not rewound a second time (which would replay all 20).
        await admin.xgroup('DESTROY', 'orders', 'g');
        await admin.xadd('orders', '1-100', 'type', 't');
        await eventually(() => handled.includes('1-100'), 10_000, 'an entry after a second blip');
        expect(handled.filter((id) => id.startsWith('1-'))).toHaveLength(21);
        expect(events.filter((e) => e.type === 'consumer.group-rewound')).toHaveLength(1);
      } finally {
        await runtime.stop();
        admin.disconnect();
        await server.stop();
      }
    });
  }
});
