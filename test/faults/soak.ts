/**
 * The soak: `npm run soak -- --minutes N` (fractions allowed; default 1). Two consumer processes (two
 * consumers each) work a stream fed at ~1,000 messages/s while faults are picked at random every
 * 1.5–4 s: Redis SIGKILLed and restarted with its data, paused past the block time, restarted
 * empty, FLUSHALL, XGROUP DESTROY, client connections killed, a consumer process SIGKILLed or
 * stopped gracefully (and started again), bursts of bad input. Then it stops the faults, waits for
 * everything to settle, stops the workers, and prints the numbers. `--faults a,b` limits the faults.
 *
 * Pass rule (test/faults/soak-verdict.ts); exit code 1 when any of these holds:
 * - an id is lost: published, and neither handled, nor dead-lettered, nor (an unknown type) reported
 *   delivered by a worker and then gone from the PEL, nor excused;
 * - anything is pending in the group at the end (after the settle and the workers' graceful stop);
 * - a valid `job` is dead-lettered (any reason), or a bad entry ends elsewhere than the dead-letter
 *   stream with its reason (`missing-type`, `malformed-payload`);
 * - more ids were handled twice than `DUPLICATES_PER_FAULT` per redelivering fault (redis-kill,
 *   redis-pause, client-kill, worker-kill, worker-restart);
 * - more ids were excused than `EXCUSED_PER_FAULT` per destructive fault (restart-empty, flushall,
 *   group-destroy);
 * - a worker process did not exit with code 0 when stopped (mid-run or at the end);
 * - more ids were handled without having been published than XADDs failed.
 *
 * Excuses: before FLUSHALL or an empty restart the soak pauses publishing and settles (up to
 * `WIPE_SETTLE_MS`, until every published id is accounted for); then only the ids still open that
 * were published within `WIPE_WINDOW_MS` before the pause are excused. Older open ids are left to
 * count as lost: an earlier fault's loss is not forgiven by a later wipe. XGROUP DESTROY excuses the
 * unhandled part of the PEL it dropped (read atomically with the destroy, in MULTI).
 *
 * Bounded: the run ends with a verdict within `--minutes` + the settle (`--settle-seconds`, default 30)
 * + `STOP_BOUND_MS`, or sooner with `--deadline-seconds N`. Past it the soak prints where it was stuck
 * and the numbers so far, kills its workers and its redis-server, and fails (exit 1): a step that
 * waits on a Redis that never came back (a restart that failed, a client that retries forever) no
 * longer hangs the run.
 *
 * Sabotage (the proof that the pass rule can fail): `--sabotage refuse-xack` runs the soak's
 * redis-server with `rename-command XACK ""`, so every XACK is an unknown command;
 * `--sabotage noop-xack` preloads test/faults/sabotage-noop-xack.ts into the worker processes, so
 * ioredis resolves every XACK without sending it. Both runs must exit 1, e.g.
 * `npm run soak -- --minutes 0.2 --sabotage noop-xack`.
 */
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Ledger } from '../helpers/ledger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import {
  auditDeadLetters,
  delay,
  type Publisher,
  pendingIds,
  startPublisher,
  startWorker,
  testClient,
  type WorkerProcess,
  within,
} from './fault-support.js';
import { type SoakNumbers, soakBounds, soakVerdict } from './soak-verdict.js';
import type { WorkerConfig } from './worker-process.js';

const FAULTS = [
  'redis-kill',
  'redis-pause',
  'restart-empty',
  'flushall',
  'group-destroy',
  'client-kill',
  'worker-kill',
  'worker-restart',
  'bad-input',
] as const;
type Fault = (typeof FAULTS)[number];

const SABOTAGES = ['refuse-xack', 'noop-xack'] as const;
type Sabotage = (typeof SABOTAGES)[number];

/** Handled twice, allowed per redelivering fault: 2 consumers × 16 handlers + an ack batch each, rounded up. */
const DUPLICATES_PER_FAULT = 100;
/** Excused, allowed per destructive fault (see the header). */
const EXCUSED_PER_FAULT = 100;
/** How long a wipe waits for what was published to be accounted for before it strikes. */
const WIPE_SETTLE_MS = 8000;
/** A wipe excuses only open ids published this long before publishing paused. */
const WIPE_WINDOW_MS = 3000;
/** How long the end waits for every id to be accounted for and the PEL to empty, by default. */
const FINAL_SETTLE_MS = 30_000;
/** Beyond the faults and the settle: starting, stopping the workers (15 s each, at once), the audit. */
const STOP_BOUND_MS = 90_000;
const NOOP_XACK = fileURLToPath(new URL('./sabotage-noop-xack.ts', import.meta.url));

function minutesArg(): number {
  const at = process.argv.indexOf('--minutes');
  const value = at === -1 ? 1 : Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected \`--minutes\` to be a number > 0, got ${process.argv[at + 1]}`);
  }
  return value;
}

/** `--<name> N`: a number of seconds > 0, or `fallback` when absent. */
function secondsArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected \`--${name}\` to be a number of seconds > 0, got ${process.argv[at + 1]}`);
  }
  return value;
}

/** `--faults a,b` limits the faults picked (to reproduce one). */
function faultsArg(): readonly Fault[] {
  const at = process.argv.indexOf('--faults');
  if (at === -1) return FAULTS;
  const picked = (process.argv[at + 1] ?? '').split(',') as Fault[];
  for (const fault of picked) {
    if (!FAULTS.includes(fault))
      throw new TypeError(`Expected \`--faults\` to list ${FAULTS.join(', ')}, got ${fault}`);
  }
  return picked;
}

/** `--sabotage refuse-xack|noop-xack` breaks acks on purpose: the run must then fail. */
function sabotageArg(): Sabotage | null {
  const at = process.argv.indexOf('--sabotage');
  if (at === -1) return null;
  const value = process.argv[at + 1] as Sabotage;
  if (!SABOTAGES.includes(value))
    throw new TypeError(`Expected \`--sabotage\` to be one of ${SABOTAGES.join(', ')}, got ${value}`);
  return value;
}

const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const started = Date.now();
const log = (text: string) => console.log(`[soak +${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

interface Soak {
  server: RedisServer;
  admin: Redis;
  ledger: Ledger;
  publisher: Publisher;
  workers: WorkerProcess[];
  configs: WorkerConfig[];
  stream: string;
  group: string;
  /** Unknown-type ids: acked without a handler once delivered; checked as not pending at the end. */
  unrouted: string[];
  /** Bad entries → the dead-letter reason each must end with. */
  badInput: Map<string, string>;
  preload: string[];
  /** Worker processes that did not exit with code 0 when stopped. */
  uncleanStops: number;
  excused: number;
}

async function spawnWorker(soak: Soak, index: number): Promise<void> {
  const worker = startWorker(soak.configs[index]!, soak.ledger, `worker ${index}`, {
    preload: soak.preload,
  });
  soak.workers[index] = worker;
  await within(worker.ready, 20_000, `worker ${index} to start`);
}

async function badInput(soak: Soak): Promise<void> {
  const { admin, stream, ledger } = soak;
  const pipeline = admin.pipeline();
  const expected: (string | null)[] = [];
  const n = random(20, 200);
  for (let i = 0; i < n; i++) {
    const pick = random(0, 9);
    if (pick <= 2) {
      pipeline.xadd(stream, '*', 'payload', '{}');
      expected.push('dead:missing-type');
    } else if (pick <= 4) {
      pipeline.xadd(stream, '*', 'type', 'job', 'payload', '{"broken":');
      expected.push('dead:malformed-payload');
    } else if (pick === 5) {
      pipeline.xadd(stream, '*', 'type', 'job', 'payload', 'x'.repeat(2 * 1024 * 1024));
      expected.push('dead:malformed-payload');
    } else {
      pipeline.xadd(stream, '*', 'type', `unknown.${random(0, 1e9)}`);
      expected.push(null);
    }
  }
  const results = (await pipeline.exec()) ?? [];
  for (const [i, [error, id]] of results.entries()) {
    if (error) continue;
    ledger.published(String(id));
    const path = expected[i];
    if (path === null || path === undefined) soak.unrouted.push(String(id));
    else soak.badInput.set(String(id), path);
  }
}

/** The ms part of a stream id: when Redis (on this machine's clock) added it. */
const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));

/**
 * Before a fault that deletes data: pause publishing, settle, then excuse the ids still open that
 * were published within `WIPE_WINDOW_MS` before the pause (and only those).
 */
async function beforeWipe(soak: Soak): Promise<number> {
  await soak.publisher.pause();
  const pausedAt = Date.now();
  await settle(soak, WIPE_SETTLE_MS);
  const recent = soak.ledger.publishedIds.filter((id) => idTime(id) >= pausedAt - WIPE_WINDOW_MS);
  const excused = soak.ledger.excuse(recent);
  soak.excused += excused;
  return excused;
}

async function inflict(soak: Soak, fault: Fault): Promise<string> {
  const { server, admin, publisher, stream, group } = soak;
  switch (fault) {
    case 'redis-kill': {
      await publisher.pause();
      await server.kill('SIGKILL');
      const down = random(200, 1500);
      await delay(down);
      await server.restart({ keepData: true });
      publisher.resume();
      return `down ${down} ms`;
    }
    case 'redis-pause': {
      const ms = random(1200, 3000);
      server.pause();
      await delay(ms);
      server.resume();
      return `paused ${ms} ms`;
    }
    case 'restart-empty': {
      const excused = await beforeWipe(soak);
      await server.restart({ keepData: false });
      publisher.resume();
      return `${excused} excused`;
    }
    case 'flushall': {
      const excused = await beforeWipe(soak);
      await admin.flushall();
      publisher.resume();
      return `${excused} excused`;
    }
    case 'group-destroy': {
      const reply = await admin
        .multi()
        .xpending(stream, group, '-', '+', 100_000)
        .xgroup('DESTROY', stream, group)
        .exec();
      const pending = ((reply?.[0]?.[1] ?? []) as [string][]).map(([id]) => id);
      const excused = soak.ledger.excuse(pending);
      soak.excused += excused;
      return `${pending.length} pending dropped, ${excused} excused`;
    }
    case 'client-kill': {
      let killed = 0;
      const times = random(1, 3);
      for (let i = 0; i < times; i++) {
        killed += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'));
        await delay(random(50, 300));
      }
      return `${killed} connections`;
    }
    case 'worker-kill': {
      const index = random(0, soak.workers.length - 1);
      await soak.workers[index]!.kill();
      await delay(random(0, 2500));
      await spawnWorker(soak, index);
      return `worker ${index}`;
    }
    case 'worker-restart': {
      const index = random(0, soak.workers.length - 1);
      const exit = await soak.workers[index]!.stop(15_000);
      if (exit.code !== 0) {
        soak.uncleanStops++;
        log(`worker ${index} stopped with ${JSON.stringify(exit)}: ${soak.workers[index]!.tail()}`);
      }
      await spawnWorker(soak, index);
      return `worker ${index} exited ${exit.code}`;
    }
    case 'bad-input':
      await badInput(soak);
      return '';
    default: {
      const never: never = fault;
      return never;
    }
  }
}

/**
 * Audit dead letters and unrouted acks until every published id is accounted for (and, with
 * `emptyPel`, nothing is pending), or `timeoutMs` passed. An unrouted id counts as acked only once a
 * worker reported it delivered and it is gone from the PEL.
 */
async function settle(soak: Soak, timeoutMs: number, emptyPel = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await auditDeadLetters(soak.admin, `${soak.stream}:dead`, soak.ledger);
    const pending = new Set(await pendingIds(soak.admin, soak.stream, soak.group));
    for (const id of soak.unrouted) {
      if (
        soak.ledger.wasDelivered(id) &&
        !pending.has(id) &&
        soak.ledger.pathOf(id) === undefined &&
        !soak.ledger.isExcused(id)
      )
        soak.ledger.settledOtherwise(id, 'unrouted-acked');
    }
    const lost = soak.ledger.report().lost.length;
    if ((lost === 0 && (!emptyPel || pending.size === 0)) || Date.now() > deadline) return;
    await delay(500);
  }
}

/** Valid ids dead-lettered, and bad entries that did not end with their expected dead-letter reason. */
function misrouted(soak: Soak): { validDeadLettered: number; badInputMisrouted: number } {
  let validDeadLettered = 0;
  let badInputMisrouted = 0;
  for (const id of soak.ledger.publishedIds) {
    const path = soak.ledger.pathOf(id);
    const expected = soak.badInput.get(id);
    if (expected !== undefined) {
      if (path !== expected && !soak.ledger.isExcused(id)) badInputMisrouted++;
    } else if (path?.startsWith('dead:')) validDeadLettered++;
  }
  return { validDeadLettered, badInputMisrouted };
}

/** Where the run is, for the message when it passes its bound. */
let phase = 'starting';
/** The run in progress, so that the deadline can kill what it started. */
let running: Soak | null = null;

async function main(): Promise<number> {
  const minutes = minutesArg();
  const settleMs = secondsArg('settle-seconds', FINAL_SETTLE_MS / 1000) * 1000;
  const faults = faultsArg();
  const sabotage = sabotageArg();
  const refuse = sabotage === 'refuse-xack' ? ['--rename-command', 'XACK', ''] : [];
  const server = await startRedisServer({ appendOnly: true, args: ['--appendfsync', 'always', ...refuse] });
  const admin = testClient(server.url);
  const ledger = new Ledger();
  const stream = 'sv:soak';
  const group = 'g';
  const base = {
    url: server.url,
    stream,
    group,
    concurrency: 16,
    blockMs: 500,
    watchdogMarginMs: 500,
    handlerMs: [0, 5] as [number, number],
    claim: { minIdleMs: 2000, intervalMs: 500 },
    supervisor: { maxRestarts: 10_000, backoff: { minMs: 50, maxMs: 1000 } },
    stopTimeoutMs: 1000,
  };
  await admin.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const soak: Soak = {
    server,
    admin,
    ledger,
    publisher: startPublisher(admin, stream, ledger, { batch: 20, intervalMs: 20 }),
    workers: [],
    configs: [
      { ...base, consumers: ['a1', 'a2'] },
      { ...base, consumers: ['b1', 'b2'] },
    ],
    stream,
    group,
    unrouted: [],
    badInput: new Map(),
    preload: sabotage === 'noop-xack' ? [NOOP_XACK] : [],
    uncleanStops: 0,
    excused: 0,
  };
  running = soak;
  const counts = new Map<Fault, number>();
  try {
    phase = 'starting the workers';
    await Promise.all([spawnWorker(soak, 0), spawnWorker(soak, 1)]);
    log(`${minutes} minute(s), redis on port ${server.port}${sabotage ? `, sabotage ${sabotage}` : ''}`);
    const end = Date.now() + minutes * 60_000;
    while (Date.now() < end) {
      await delay(random(1500, 4000));
      const fault = faults[random(0, faults.length - 1)]!;
      counts.set(fault, (counts.get(fault) ?? 0) + 1);
      phase = `fault ${fault}`;
      const detail = await inflict(soak, fault);
      log(`${fault} ${detail} | ${ledger.summary()}`);
    }
    phase = 'stopping the publisher';
    await soak.publisher.stop();
    log('faults over; waiting for everything to settle');
    phase = 'the final settle';
    await settle(soak, settleMs, true);
  } finally {
    phase = 'stopping the publisher';
    await soak.publisher.stop();
    server.resume();
    phase = 'stopping the workers';
    const exits = await Promise.all(soak.workers.map((w) => w.stop(15_000)));
    for (const [i, exit] of exits.entries()) {
      if (exit.code === 0) continue;
      soak.uncleanStops++;
      log(`worker ${i} did not stop cleanly: ${JSON.stringify(exit)} ${soak.workers[i]!.tail()}`);
    }
  }
  phase = 'the final audit';
  await settle(soak, 0);
  const report = ledger.report();
  const stillPending = await pendingIds(admin, stream, group);
  admin.disconnect();
  await server.stop();
  const numbers: SoakNumbers = {
    lost: report.lost.length,
    unexpected: report.unexpected.length,
    publishFailures: soak.publisher.failures,
    pendingAtEnd: stillPending.length,
    ...misrouted(soak),
    duplicates: report.duplicates.length,
    excused: soak.excused,
    uncleanStops: soak.uncleanStops,
  };
  const bounds = soakBounds(counts, {
    duplicatesPerFault: DUPLICATES_PER_FAULT,
    excusedPerFault: EXCUSED_PER_FAULT,
  });
  console.log(
    JSON.stringify(
      {
        minutes,
        sabotage,
        faults: Object.fromEntries(counts),
        published: report.published,
        handled: report.handled,
        otherPaths: report.paths,
        ...numbers,
        ...bounds,
        lostIds: report.lost.slice(0, 20),
      },
      null,
      2,
    ),
  );
  const problems = soakVerdict(numbers, bounds);
  if (problems.length > 0) {
    console.error(`soak FAILED: ${problems.join('; ')}`);
    return 1;
  }
  console.log('soak passed: nothing lost, nothing pending, duplicates and excuses within bounds');
  return 0;
}

/**
 * The run's own bound passed: say where it was stuck and what it had counted, kill the workers (the
 * redis-server helper kills its servers on exit) and fail.
 */
function overtime(boundMs: number): number {
  const soak = running;
  console.error(
    `soak FAILED: did not end within its bound of ${(boundMs / 1000).toFixed(0)} s (stuck in ${phase})${
      soak ? `; so far: ${soak.ledger.summary()}` : ''
    }`,
  );
  for (const worker of soak?.workers ?? []) worker.child.kill('SIGKILL');
  return 1;
}

const boundMs =
  secondsArg('deadline-seconds', 0) * 1000 ||
  minutesArg() * 60_000 + secondsArg('settle-seconds', FINAL_SETTLE_MS / 1000) * 1000 + STOP_BOUND_MS;
let bound: ReturnType<typeof setTimeout> | undefined;
Promise.race([
  main(),
  new Promise<number>((resolve) => {
    bound = setTimeout(() => resolve(overtime(boundMs)), boundMs);
  }),
])
  .then(
    (code) => code,
    (error: unknown) => {
      console.error('soak crashed:', error);
      return 2;
    },
  )
  .then((code) => {
    clearTimeout(bound);
    // Past the bound, main() may still wait on a Redis that is gone: exit, do not wait for it.
    process.exit(code);
  });
