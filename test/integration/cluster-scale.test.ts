import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { partitionStreams } from '../../src/wire/partitions.js';
import { publish } from '../../src/wire/publish.js';
import { Ledger } from '../helpers/ledger.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import type { ClusterWorkerConfig } from './cluster-worker.js';

// Many processes on a partitioned stream over a real Redis Cluster (3 masters, 3 replicas): three
// consumer processes share 12 partitions; one process is SIGKILLed mid-work and the others claim its
// pending entries and then remove its consumer name; one master is SIGKILLed and its replica wins the
// election. The ledger must show nothing lost.

const WORKER = fileURLToPath(new URL('./cluster-worker.ts', import.meta.url));
const STREAM = 'orders';
const GROUP = 'billing';
const PARTITIONS = 12;

interface Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  failure: string | null;
}

let cluster: RedisCluster | undefined;
let storage: RedisStreamStorage | undefined;
const workers: Worker[] = [];
const ledger = new Ledger();
let published = 0;

function startWorker(url: string, name: string): Worker {
  const config: ClusterWorkerConfig = {
    url,
    stream: STREAM,
    group: GROUP,
    consumer: name,
    partitions: PARTITIONS,
    // Long enough that a process still holds a share of the batch when it is killed (at 5 ms a fast
    // process could finish its share before the kill, leaving nothing to claim).
    handlerMs: 20,
    claimMinIdleMs: 1500,
    staleConsumerMs: 3000,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, SV_CLUSTER_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let onReady: () => void = () => {};
  let onFailed: (error: Error) => void = () => {};
  const worker: Worker = {
    name,
    child,
    failure: null,
    ready: new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    }),
  };
  child.once('exit', (code, signal) => onFailed(new Error(`worker ${name} exited (${code ?? signal})`)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{"sv"')) return;
    const record = JSON.parse(line) as { sv: string; mid?: string; error?: string };
    if (record.sv === 'handled' && record.mid !== undefined) ledger.handled(record.mid, name);
    else if (record.sv === 'ready') onReady();
    else if (record.sv === 'failed') {
      worker.failure = record.error ?? 'unknown';
      onFailed(new Error(`worker ${name} failed: ${worker.failure}`));
    }
  });
  workers.push(worker);
  return worker;
}

function killWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
  worker.child.kill('SIGKILL');
  return exited;
}

/** Publish `n` keyed messages; a publish that meets a failover in progress is retried. */
async function publishBatch(n: number): Promise<void> {
  const target = storage!;
  for (let i = 0; i < n; i++) {
    const seq = published++;
    const mid = `m${seq}`;
    const key = `customer-${seq % 60}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await publish(target, STREAM, 'job', { mid, key, seq }, { key, partitions: PARTITIONS });
        break;
      } catch (error) {
        if (!(error instanceof ConnectionError) || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    ledger.published(mid);
  }
}

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
  storage = RedisStreamStorage.fromUrl(cluster.url);
  // Groups exist before anything is published, so `startId: '0'` and `$` agree.
  for (const stream of partitionStreams(STREAM, PARTITIONS)) await storage.ensureGroup(stream, GROUP, '0');
}, 40_000);

// The test's worker processes end with it (the leak guard checks after each test).
afterEach(async () => {
  await Promise.allSettled(workers.map(killWorker));
});

afterAll(async () => {
  await storage?.close();
  await cluster?.stop();
}, 20_000);

describe('a partitioned stream on a Redis Cluster with several consumer processes', () => {
  it('loses nothing when a consumer process and then a master are killed', async () => {
    const url = cluster!.url;
    const [w1, w2, w3] = ['w1', 'w2', 'w3'].map((name) => startWorker(url, name)) as [Worker, Worker, Worker];
    await Promise.all([w1.ready, w2.ready, w3.ready]);

    // Phase 1: three processes share the partitions; w2 dies with messages in flight.
    await publishBatch(1200);
    await ledger.waitFor(() => (ledger.byConsumer.get('w2') ?? 0) >= 40, 15_000, 'w2 to handle 40');
    await killWorker(w2);
    const orphans = await Promise.all(
      partitionStreams(STREAM, PARTITIONS).map((stream) =>
        storage!.pending(stream, GROUP, { count: 1000, consumer: 'w2' }),
      ),
    );
    expect(orphans.flat().length).toBeGreaterThan(0); // w2 died with entries in flight: they must be claimed
    await ledger.waitUntilHandled(20_000);
    expect(ledger.report().lost).toEqual([]);
    const handledBy = Object.fromEntries(ledger.byConsumer);
    expect(Object.keys(handledBy).sort()).toEqual(['w1', 'w2', 'w3']);

    // Phase 2: a master dies after its replica has everything; its replica takes over by election.
    await publishBatch(300);
    await cluster!.waitForReplication();
    const [victim] = await cluster!.masters();
    await cluster!.killMaster(victim!, { failover: 'auto', timeoutMs: 20_000 });
    await publishBatch(300);
    await ledger.waitUntilHandled(25_000);

    const report = ledger.report();
    expect(report.lost).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.handled).toBe(1800);
    expect(workers.map((w) => w.failure)).toEqual([null, null, null]);

    // w2's name goes from every partition once nothing is pending on it and it idled past staleConsumerMs.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const names = await Promise.all(
        partitionStreams(STREAM, PARTITIONS).map(async (stream) =>
          (await storage!.consumers(stream, GROUP)).map((c) => c.name),
        ),
      );
      if (names.every((list) => !list.includes('w2'))) {
        expect(names.every((list) => list.includes('w1') || list.includes('w3'))).toBe(true);
        break;
      }
      if (Date.now() > deadline) throw new Error(`w2 still listed: ${JSON.stringify(names)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const pending = await Promise.all(
      partitionStreams(STREAM, PARTITIONS).map((stream) => storage!.pending(stream, GROUP, { count: 10 })),
    );
    expect(pending.flat()).toEqual([]);
  }, 90_000);
});
