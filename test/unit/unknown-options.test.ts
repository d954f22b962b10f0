import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  type ConsumerOptions,
  createRuntime,
  MemoryRetryScheduler,
  MemoryStreamStorage,
  Router,
  type RuntimeOptions,
  systemClock,
} from '../../src/index.js';
import { closestKey } from '../../src/runtime/option-keys.js';

// JavaScript callers (and `as` casts) get no type check: createRuntime rejects keys it does not know,
// naming the closest valid one (issue 13, point 6).

const router = new Router();

/** createRuntime with options TypeScript would reject, as JavaScript code passes them. */
function create(options: Record<string, unknown>) {
  return () => createRuntime(options as unknown as RuntimeOptions);
}

function consumer(extra: Record<string, unknown>): ConsumerOptions {
  return { stream: 's', group: 'g', consumer: 'c', ...extra } as ConsumerOptions;
}

describe('unknown options', () => {
  it('names a misspelt consumer option and the one meant: `concurency` → `concurrency`', () => {
    const make = create({ router, consumers: [consumer({ concurency: 16 })] });
    expect(make).toThrow(TypeError);
    expect(make).toThrow('Unknown option `consumers[0].concurency`; did you mean `concurrency`?');
  });

  it('checks the top level', () => {
    expect(create({ router, consumers: [consumer({})], retrySheduler: {} })).toThrow(
      'Unknown option `retrySheduler`; did you mean `retryScheduler`?',
    );
    expect(create({ router, consumers: [consumer({})], containr: {} })).toThrow(/did you mean `container`\?/);
  });

  it('checks every consumer and the nested retry, claim and deadLetter objects', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ retry: { attemps: 3 } }, '`consumers[1].retry.attemps`; did you mean `attempts`?'],
      [
        { retry: { backoff: { initalMs: 5 } } },
        '`consumers[1].retry.backoff.initalMs`; did you mean `initialMs`?',
      ],
      [
        { retry: { scheduled: { backof: {} } } },
        '`consumers[1].retry.scheduled.backof`; did you mean `backoff`?',
      ],
      [
        { retry: { scheduled: { backoff: { maxMS: 5 } } } },
        '`consumers[1].retry.scheduled.backoff.maxMS`; did you mean `maxMs`?',
      ],
      [{ claim: { minIdle: 5 } }, '`consumers[1].claim.minIdle`; did you mean `minIdleMs`?'],
      [
        { deadLetter: { maxDelivery: 5 } },
        '`consumers[1].deadLetter.maxDelivery`; did you mean `maxDeliveries`?',
      ],
      [{ blockMS: 5 }, '`consumers[1].blockMS`; did you mean `blockMs`?'],
      [{ retention: { keepMS: 5 } }, '`consumers[1].retention.keepMS`; did you mean `keepMs`?'],
      [{ ordering_key: () => 'k' }, '`consumers[1].ordering_key`; did you mean `orderingKey`?'],
    ];
    for (const [extra, message] of cases) {
      expect(create({ router, consumers: [consumer({}), consumer(extra)] }), message).toThrow(message);
    }
  });

  it('checks the supervisor and its backoff', () => {
    expect(create({ router, consumers: [consumer({})], supervisor: { maxRestart: 1 } })).toThrow(
      'Unknown option `supervisor.maxRestart`; did you mean `maxRestarts`?',
    );
    expect(
      create({ router, consumers: [consumer({})], supervisor: { backoff: { randomFactr: 1 } } }),
    ).toThrow('Unknown option `supervisor.backoff.randomFactr`; did you mean `randomFactor`?');
  });

  it("maps the Python design's names to their counterparts", () => {
    expect(create({ router, consumers: [consumer({ batch_count: 10 })] })).toThrow('did you mean `count`?');
    expect(create({ router, consumers: [consumer({ poll_interval: 1 })] })).toThrow(
      'did you mean `blockMs`?',
    );
    expect(create({ router, consumers: [consumer({})], retry_scheduler: {} })).toThrow(
      'did you mean `retryScheduler`?',
    );
  });

  it('lists the valid keys when none is close', () => {
    expect(create({ router, consumers: [consumer({ claim: { everything: true } })] })).toThrow(
      'Unknown option `consumers[0].claim.everything`; expected one of `minIdleMs`, `intervalMs`',
    );
  });

  it('accepts every option it documents', async () => {
    const storage = new MemoryStreamStorage();
    const runtime = createRuntime({
      storage,
      router,
      container: {},
      consumers: [
        {
          stream: 'orders',
          group: 'g',
          consumer: 'c',
          id: 'orders-consumer',
          partitions: 2,
          staleConsumerMs: false,
          count: 4,
          prefetch: 0,
          concurrency: 4,
          blockMs: 100,
          startId: '$',
          claim: { minIdleMs: 1000, intervalMs: 1000 },
          retry: {
            attempts: 2,
            backoff: { initialMs: 1, maxMs: 2 },
            scheduled: { attempts: 1, backoff: { initialMs: 1, maxMs: 2 } },
          },
          deadLetter: { stream: 'orders:dead', maxDeliveries: 3, maxLen: 100 },
          orderingKey: (message) => message.type,
          maxPayloadBytes: 1024,
          unrouted: 'ack',
          handlerTimeoutMs: 1000,
          retention: { intervalMs: 1000, keepMs: 0 },
        },
      ],
      supervisor: {
        maxRestarts: 1,
        periodMs: 1000,
        backoff: { minMs: 1, maxMs: 2, randomFactor: 0 },
        resetAfterMs: 1,
      },
      onFatal: () => {},
      retryScheduler: new MemoryRetryScheduler({ storage }),
      logger: pino({ level: 'silent' }),
      clock: systemClock,
      inspect: () => {},
      closeStorage: true,
      random: () => 0.5,
      telemetry: false,
    });
    expect(runtime.consumers).toHaveLength(2);
    await runtime.stop();
  });
});

describe('closestKey', () => {
  it('ignores case and underscores, counts a swap of two letters as one edit, and gives up when far', () => {
    expect(closestKey('concurency', ['count', 'concurrency'])).toBe('concurrency');
    expect(closestKey('CONCURRENCY', ['count', 'concurrency'])).toBe('concurrency');
    expect(closestKey('max_len', ['maxLen', 'stream'])).toBe('maxLen');
    expect(closestKey('stearm', ['stream', 'group'])).toBe('stream');
    expect(closestKey('banana', ['stream', 'group'])).toBeUndefined();
  });
});
