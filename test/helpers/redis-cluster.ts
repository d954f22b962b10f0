import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from './redis-server.js';

/** One `redis-server --cluster-enabled yes` of a test cluster. */
export interface ClusterNode {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** The cluster bus port (`cluster-port`). */
  readonly busPort: number;
  /** The server process (kill, pause, stop). */
  readonly server: RedisServer;
}

/** A private Redis Cluster a test may kill nodes of. */
export interface RedisCluster {
  /** Every node, masters first as created (the roles change after a failover: ask `roles()`). */
  readonly nodes: readonly ClusterNode[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` with every node as a seed. */
  readonly url: string;
  /** Port → `master` or the port of the master it replicates, as the live nodes see it now. */
  roles(): Promise<Map<number, 'master' | number>>;
  /** Ports of the live masters serving slots. */
  masters(): Promise<number[]>;
  /** Resolves once every live node says `cluster_state:ok` and knows every slot; rejects after `timeoutMs`. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /**
   * SIGKILL the master on `port` and make its replica the master: `takeover` (default) sends
   * `CLUSTER FAILOVER TAKEOVER` to the replica right away; `auto` waits for the replica's own
   * election after `cluster-node-timeout`. Resolves the new master's port once the cluster is ok.
   */
  killMaster(port: number, options?: { failover?: 'takeover' | 'auto'; timeoutMs?: number }): Promise<number>;
  /** `WAIT 1 timeoutMs` on every live master: resolves when each replica has what its master has. */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /** Kill every node and remove their data directories. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters sharing the 16384 slots evenly (1 or 2 are joined by hand: redis-cli wants 3). @default 3 */
  masters?: number;
  /** Replicas per master (`--cluster-replicas`). @default 0 */
  replicas?: number;
  /** `cluster-node-timeout`, ms: how long a silent node takes to be marked failing. @default 2000 */
  nodeTimeoutMs?: number;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function client(port: number): Redis {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    protocol: 2,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  return redis;
}

/** One command on one node over a short-lived connection. */
async function command(port: number, name: string, ...args: (string | number)[]): Promise<unknown> {
  const redis = client(port);
  try {
    await redis.connect();
    return await redis.call(name, ...args);
  } finally {
    redis.disconnect();
  }
}

function info(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return map;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

interface NodeLine {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  masterId: string;
  slots: number;
}

/** `CLUSTER NODES` as seen by the node on `port`. */
async function clusterNodes(port: number): Promise<NodeLine[]> {
  const text = String(await command(port, 'CLUSTER', 'NODES'));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', , , , , ...slots] = line.split(' ');
      const nodePort = Number(address.split('@')[0]?.split(':')[1]);
      return {
        id,
        port: nodePort,
        master: flags.split(',').includes('master'),
        failed: /fail/.test(flags),
        masterId,
        slots: slots.length,
      };
    });
}

/**
 * Start a private Redis Cluster: `masters × (1 + replicas)` servers (`redis-server --cluster-enabled yes`,
 * a short `cluster-node-timeout`, no persistence) on free ports, joined with
 * `redis-cli --cluster create … --cluster-replicas N --cluster-yes`, and resolve once every node says
 * `cluster_state:ok` (and every replica is in sync). Every server is killed when the test file ends,
 * also when the test fails half-way (through startRedisServer's guard); call `stop()` in `afterAll`.
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicas: 1 })
 * afterAll(() => cluster.stop())
 * const storage = RedisStreamStorage.fromUrl(cluster.url)
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const nodes: ClusterNode[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled(nodes.map((node) => node.server.stop()));
  };
  try {
    const starts: Promise<ClusterNode>[] = [];
    for (let i = 0; i < masterCount * (1 + replicas); i++) {
      starts.push(
        (async () => {
          // The cluster bus defaults to port + 10000, which may be taken or past 65535: pick it too.
          const server = await startRedisServer({
            clusterBus: true,
            args: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              'nodes.conf',
              // A lone node never learns its own address from a peer: announce it, or CLUSTER SLOTS says "".
              '--cluster-announce-ip',
              '127.0.0.1',
              '--cluster-node-timeout',
              String(nodeTimeoutMs),
              '--cluster-replica-validity-factor',
              '0',
              '--repl-diskless-sync',
              'yes',
              '--repl-diskless-sync-delay',
              '0',
            ],
          });
          const busPort = server.busPort ?? 0;
          return { port: server.port, address: `127.0.0.1:${server.port}`, busPort, server };
        })(),
      );
    }
    const settled = await Promise.allSettled(starts);
    for (const result of settled) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;

    if (masterCount >= 3) {
      const create = ['--cluster', 'create', ...nodes.map((node) => node.address)];
      create.push('--cluster-replicas', String(replicas), '--cluster-yes');
      await run('redis-cli', create, 30_000);
    } else {
      // redis-cli refuses fewer than three masters; join them and share the slots by hand.
      if (replicas > 0) throw new TypeError('Expected `replicas` to be 0 with fewer than 3 masters');
      await assignSlotsByHand(nodes);
    }

    const cluster: RedisCluster = {
      nodes,
      url: `redis+cluster://${nodes.map((node) => node.address).join(',')}`,
      roles: () => roles(liveNodes(nodes)),
      masters: async () => {
        const map = await roles(liveNodes(nodes));
        return [...map].filter(([, role]) => role === 'master').map(([port]) => port);
      },
      waitUntilOk: (timeoutMs = 20_000) => waitUntilOk(liveNodes(nodes), timeoutMs),
      killMaster: (port, killOptions = {}) => killMaster(nodes, port, killOptions),
      waitForReplication: async (timeoutMs = 5000) => {
        const map = await roles(liveNodes(nodes));
        const masters = [...map].filter(([, role]) => role === 'master').map(([p]) => p);
        const hasReplica = new Set([...map.values()].filter((role) => role !== 'master'));
        await Promise.all(
          masters
            .filter((p) => hasReplica.has(p))
            .map(async (p) => {
              const acked = Number(await command(p, 'WAIT', 1, timeoutMs));
              if (acked < 1)
                throw new Error(`the replica of 127.0.0.1:${p} did not catch up in ${timeoutMs} ms`);
            }),
        );
      },
      stop,
    };
    await cluster.waitUntilOk(30_000);
    if (replicas > 0) await waitForReplicasInSync(nodes, 30_000);
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function assignSlotsByHand(nodes: readonly ClusterNode[]): Promise<void> {
  const first = nodes[0];
  if (first === undefined) throw new TypeError('Expected `masters` to be at least 1');
  for (const node of nodes.slice(1)) {
    await command(first.port, 'CLUSTER', 'MEET', '127.0.0.1', node.port, node.busPort);
  }
  const size = Math.ceil(16384 / nodes.length);
  await Promise.all(
    nodes.map((node, i) =>
      command(node.port, 'CLUSTER', 'ADDSLOTSRANGE', i * size, Math.min(16383, (i + 1) * size - 1)),
    ),
  );
}

function liveNodes(nodes: readonly ClusterNode[]): ClusterNode[] {
  return nodes.filter((node) => node.server.pid > 0);
}

async function roles(nodes: readonly ClusterNode[]): Promise<Map<number, 'master' | number>> {
  const first = nodes[0];
  if (first === undefined) throw new Error('no live cluster node');
  const lines = await clusterNodes(first.port);
  const byId = new Map(lines.map((line) => [line.id, line]));
  const live = new Set(nodes.map((node) => node.port));
  const map = new Map<number, 'master' | number>();
  for (const line of lines) {
    if (line.failed || !live.has(line.port)) continue;
    if (line.master) map.set(line.port, 'master');
    else map.set(line.port, byId.get(line.masterId)?.port ?? -1);
  }
  return map;
}

async function waitUntilOk(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const states = await Promise.all(
        nodes.map(async (node) => info(String(await command(node.port, 'CLUSTER', 'INFO')))),
      );
      const ok = states.every(
        (state) => state.get('cluster_state') === 'ok' && state.get('cluster_slots_ok') === '16384',
      );
      if (ok) {
        // Every live node must also agree on who serves which slot (no failed master still owning slots).
        const views = await Promise.all(nodes.map((node) => clusterNodes(node.port)));
        const agreed = views.every((lines) =>
          lines.every((line) => !(line.failed && line.master && line.slots > 0)),
        );
        if (agreed) return;
        last = 'a failed master still owns slots in some node’s view';
      } else {
        last = states.map((state) => state.get('cluster_state')).join(',');
      }
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`cluster not ok within ${timeoutMs} ms (${last})`);
    await delay(100);
  }
}

async function waitForReplicasInSync(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const replication = await Promise.all(
      nodes.map(async (node) => info(String(await command(node.port, 'INFO', 'replication')))),
    );
    const inSync = replication.every(
      (state) => state.get('role') === 'master' || state.get('master_link_status') === 'up',
    );
    if (inSync) return;
    if (Date.now() > deadline) throw new Error(`replicas not in sync within ${timeoutMs} ms`);
    await delay(100);
  }
}

async function killMaster(
  nodes: readonly ClusterNode[],
  port: number,
  options: { failover?: 'takeover' | 'auto'; timeoutMs?: number },
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const master = nodes.find((node) => node.port === port);
  if (master === undefined) throw new Error(`no cluster node on port ${port}`);
  const map = await roles(liveNodes(nodes));
  if (map.get(port) !== 'master') throw new Error(`127.0.0.1:${port} is not a master`);
  const replica = [...map].find(([, role]) => role === port)?.[0];
  if (replica === undefined) throw new Error(`master 127.0.0.1:${port} has no replica to take over`);
  await master.server.kill('SIGKILL');
  if ((options.failover ?? 'takeover') === 'takeover') {
    await command(replica, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
  }
  const deadline = Date.now() + timeoutMs;
  while (info(String(await command(replica, 'INFO', 'replication'))).get('role') !== 'master') {
    if (Date.now() > deadline)
      throw new Error(`replica 127.0.0.1:${replica} did not take over in ${timeoutMs} ms`);
    await delay(100);
  }
  await waitUntilOk(liveNodes(nodes), Math.max(1000, deadline - Date.now()));
  return replica;
}
