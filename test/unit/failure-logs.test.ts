import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRetryScheduler } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, memoryLogger, startHarness } from './retry-support.js';

// A failing handler is not silent at the default level (`warn`): a retry logs at `warn`, a dead
// letter at `error`, each line with the message id, type, stream, group, attempt and error, and
// never the payload (issue 13, point 3).

const WARN = 40;
const ERROR = 50;
const SECRET = 'card-4242-4242';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** The records at `warn` or above: what the default logger (level `warn`) prints. */
function printed(records: Array<Record<string, unknown>>) {
  return records.filter((record) => (record.level as number) >= WARN);
}

describe('failure logs', () => {
  it('logs each in-process retry at warn and the dead letter at error, without the payload', async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness(
      (router) =>
        router.on('booking.confirmed', () => {
          throw new Error('downstream unavailable');
        }),
      { logger, consumer: { retry: { attempts: 2, backoff: { initialMs: 10, maxMs: 10 } } } },
    );
    const id = await h.add({ type: 'booking.confirmed', payload: JSON.stringify({ card: SECRET }) });
    await h.advance(50);
    expect(await h.dead()).toHaveLength(1);

    const lines = printed(records);
    expect(lines).toHaveLength(2);
    const common = { messageId: id, messageType: 'booking.confirmed', stream: 's', group: 'g' };
    expect(lines[0]).toMatchObject({
      ...common,
      level: WARN,
      attempt: 1,
      error: 'downstream unavailable',
      msg: 'handler failed; retrying in process',
    });
    expect(lines[1]).toMatchObject({
      ...common,
      level: ERROR,
      attempt: 2,
      reason: 'handler-error',
      error: 'downstream unavailable',
      msg: 'message dead-lettered',
    });
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });

  it('logs a hand-over to the retry scheduler at warn', async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('boom');
        }),
      {
        logger,
        consumer: {
          retry: { attempts: 1, scheduled: { attempts: 1, backoff: { initialMs: 100, maxMs: 100 } } },
        },
        retryScheduler: (storage, clock) => new MemoryRetryScheduler({ storage, clock }),
      },
    );
    const id = await h.add({ type: 't', user_id: SECRET });
    await h.advance(10);
    expect(printed(records)).toEqual([
      expect.objectContaining({
        level: WARN,
        messageId: id,
        messageType: 't',
        stream: 's',
        group: 'g',
        attempt: 1,
        retryAttempt: 1,
        error: 'boom',
        msg: 'handler failed; handed to the retry scheduler',
      }),
    ]);
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });

  it('logs a message dead-lettered without a handler call (no type) at error', async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness((router) => router.on('t', () => {}), { logger });
    const id = await h.add({ user_id: SECRET });
    expect(printed(records)).toEqual([
      expect.objectContaining({ level: ERROR, messageId: id, messageType: null, reason: 'missing-type' }),
    ]);
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });
});
