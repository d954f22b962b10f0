/**
 * `npx tsx bench/alloc-profile.ts [--variant streamvisor|bare] [--seconds N] [--top N]`: what is
 * allocated per message at light load. The latency cases' producer publishes at 1,000 msg/s (every
 * message its own read) to the bare loop or to streamvisor at concurrency 16, on a private
 * redis-server; after a 1 s warm-up, V8's sampling heap profiler runs for `--seconds` with the
 * objects that scavenges and mark-compacts collected included (that garbage is what drives the
 * scavenges behind the pickup tail). Prints KB per message in all, by owner (xstate, ioredis, each
 * of our files, the rest: the innermost frame that belongs to one), and the top allocating sites.
 * A diagnostic, not a target: see docs/performance.md ("The read loop").
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { bareDrain } from './cases/throughput-baseline.js';
import { runMain } from './lib/main.js';
import { paced, timedFields } from './lib/pacer.js';
import { connect, createGroup } from './lib/redis.js';
import { startStreamvisor } from './lib/streamvisor-drain.js';
import { waitUntil } from './lib/wait.js';

const RATE = 1_000;
const WARMUP = 1_000;

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

function frameName(node: SamplingNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** Who a sample belongs to: the innermost frame of a known owner, else the innermost frame. */
function owner(stack: readonly SamplingNode[]): string {
  for (let i = stack.length - 1; i >= 0; i--) {
    const url = stack[i]!.callFrame.url;
    if (url.includes('node_modules/xstate/')) return 'xstate';
    if (url.includes('node_modules/ioredis/')) return 'ioredis';
    const own = /\/(src\/.*\.ts)$/.exec(url);
    if (own) return own[1]!;
    if (/\/(bench|test)\//.test(url)) return 'bench harness (producer, recorder)';
  }
  return `other: ${frameName(stack[stack.length - 1]!)}`;
}

function tally(root: SamplingNode): {
  total: number;
  byOwner: Map<string, number>;
  bySite: Map<string, number>;
} {
  const byOwner = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: SamplingNode, stack: SamplingNode[]): void => {
    stack.push(node);
    if (node.selfSize > 0) {
      total += node.selfSize;
      const who = owner(stack);
      byOwner.set(who, (byOwner.get(who) ?? 0) + node.selfSize);
      // Builtins (Set, Map, Object.assign, …) are named after their caller.
      const site =
        node.callFrame.url === '' && stack.length > 1
          ? `${frameName(node)} <- ${frameName(stack[stack.length - 2]!)}`
          : frameName(node);
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, stack);
    stack.pop();
  };
  walk(root, []);
  return { total, byOwner, bySite };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'streamvisor' },
      seconds: { type: 'string', default: '5' },
      top: { type: 'string', default: '25' },
    },
  });
  const variant = values.variant;
  if (variant !== 'streamvisor' && variant !== 'bare')
    throw new TypeError(`Expected \`--variant\` to be streamvisor or bare, got ${variant}`);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new TypeError(`Expected \`--seconds\` to be an integer ≥ 1, got ${values.seconds}`);
  const messages = seconds * RATE;
  const server = await startRedisServer({ appendOnly: false });
  const admin = connect(server.url);
  const producer = connect(server.url);
  const reader = connect(server.url);
  const stream = `alloc:${variant}`;
  let handled = 0;
  const record = (): void => {
    handled++;
  };
  try {
    await createGroup(admin, stream, 'g', '$');
    const handle =
      variant === 'streamvisor'
        ? await startStreamvisor({ url: server.url, stream, group: 'g', concurrency: 16 }, record)
        : undefined;
    const draining =
      variant === 'bare' ? bareDrain(reader, stream, 'g', WARMUP + messages, record) : undefined;
    await paced(WARMUP, RATE, (i) => void producer.xadd(stream, '*', ...timedFields(i)));
    await waitUntil(() => handled >= WARMUP, { progress: () => handled, what: 'warm-up' });
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    } as never);
    await paced(messages, RATE, (i) => void producer.xadd(stream, '*', ...timedFields(WARMUP + i)));
    await waitUntil(() => handled >= WARMUP + messages, { progress: () => handled, what: variant });
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
      profile: { head: SamplingNode };
    };
    session.disconnect();
    await draining;
    await handle?.stop();
    const { total, byOwner, bySite } = tally(profile.head);
    const perMessage = (bytes: number): string => `${(bytes / messages / 1024).toFixed(2)} KB`;
    const top = (map: Map<string, number>, count: number) =>
      [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
    console.log(
      `${variant}, ${messages} messages at ${RATE} msg/s: ${perMessage(total)} allocated per message`,
    );
    console.table(top(byOwner, 15).map(([who, bytes]) => ({ owner: who, perMessage: perMessage(bytes) })));
    console.table(
      top(bySite, Number(values.top)).map(([site, bytes]) => ({ site, perMessage: perMessage(bytes) })),
    );
  } finally {
    await admin.del(stream);
    producer.disconnect();
    reader.disconnect();
    admin.disconnect();
    await server.stop();
  }
}

runMain(main);
