// Two runtimes over one MemoryStreamStorage (real clock) sharing 4 leased partitions, and a dashboard
// on the first: for the dashboard's partitions view (HTTP and browser tests).
import { pino } from 'pino';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  Router,
  type Runtime,
  startDashboard,
} from '../../src/index.js';

export const PARTITIONS = 4;

export interface LeasedPair {
  storage: MemoryStreamStorage;
  a: Runtime;
  b: Runtime;
  dashboard: Dashboard;
  /** Resolves once every partition has an owner in `a`'s view, `mine` of them owned by `a`. */
  settled(mine: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function leasedRuntime(storage: MemoryStreamStorage, name: string): Runtime {
  return createRuntime({
    storage,
    closeStorage: false,
    router: new Router(),
    logger: pino({ level: 'silent' }),
    consumers: [
      {
        stream: 'orders',
        group: 'billing',
        consumer: name,
        partitions: PARTITIONS,
        assignment: 'leased',
        leaseTtlMs: 1_000,
      },
    ],
  });
}

export async function startLeasedPair(): Promise<LeasedPair> {
  const storage = new MemoryStreamStorage();
  const a = leasedRuntime(storage, 'pod-a');
  const b = leasedRuntime(storage, 'pod-b');
  const dashboard = await startDashboard(a, { port: 0, sampleMs: 50, groupPollMs: 200 });
  await a.start();
  await b.start();
  return {
    storage,
    a,
    b,
    dashboard,
    async settled(mine, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const partitions = a.snapshot().partitions ?? [];
        const owned = partitions.filter((p) => p.mine).length;
        if (partitions.length === PARTITIONS && partitions.every((p) => p.owner !== null) && owned === mine)
          return;
        if (Date.now() > deadline)
          throw new Error(`partitions did not settle on ${mine} mine: ${JSON.stringify(partitions)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await dashboard.close();
      await Promise.all([a.stop(), b.stop()]);
      await storage.close(); // ends the reads still blocked in it (closeStorage: false above)
    },
  };
}
