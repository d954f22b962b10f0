/**
 * Dashboard cost: the concurrency-16 drain without a dashboard and with `startDashboard` attached
 * and a client watching it (the page is fetched, then the event stream it names in data-events is
 * read for the whole drain, as a browser would), interleaved: without, with, without, with, … after
 * one warm-up of each. Target: < 10% fewer msg/s, judged on the medians and on every repetition's
 * pair (bench/lib/report.ts).
 */
import { createServer } from 'node:net';
import { startDashboard } from '../../src/index.js';
import { fillDrainData, runInterleaved } from '../lib/repeat.js';
import type { BenchRuntime } from '../lib/streamvisor-drain.js';
import { svVariant } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Starts the dashboard and a watching client; returns how to detach both, and what was attached. */
async function attach(
  runtime: BenchRuntime,
  attached: { client: string; bytes: number },
): Promise<() => Promise<void>> {
  const dashboard = await startDashboard(runtime, { port: await freePort() });
  const abort = new AbortController();
  const page = await (await fetch(dashboard.url, { signal: abort.signal })).text();
  // The page names its live event stream in <body data-events="…">.
  const source = /data-events="([^"]+)"/.exec(page)?.[1];
  attached.client = source === undefined ? 'page only (no event stream found)' : `page + ${source}`;
  if (source !== undefined) {
    void (async () => {
      const response = await fetch(new URL(source, dashboard.url), { signal: abort.signal });
      const reader = response.body?.getReader();
      for (;;) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) break;
        attached.bytes += chunk.value.byteLength;
      }
    })().catch(() => {});
  }
  return async () => {
    abort.abort();
    await dashboard.close();
  };
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const attached = { client: 'none', bytes: 0 };
  const variants = [
    svVariant({ caseId: 'dashboard-cost', variant: 'without', concurrency: 16 }),
    svVariant({
      caseId: 'dashboard-cost',
      variant: 'with dashboard',
      concurrency: 16,
      beforeStart: (runtime) => attach(runtime, attached),
    }),
  ];
  const admin = ctx.connect();
  try {
    const data = await fillDrainData(ctx, admin, 'dashboard');
    const [without, withDashboard] = await runInterleaved(ctx, admin, data, variants, 'dashboard');
    if (without === undefined || withDashboard === undefined) throw new Error('dashboard-cost: rows missing');
    if (withDashboard.status !== 'ok' || without.msgPerSec === undefined) return [without, withDashboard];
    const cost = 1 - (withDashboard.msgPerSec ?? Number.NaN) / without.msgPerSec;
    return [
      without,
      {
        ...withDashboard,
        note: `cost of medians ${(cost * 100).toFixed(1)}%, client: ${attached.client}`,
        extra: { ...withDashboard.extra, 'bytes pushed': attached.bytes },
      },
    ];
  } finally {
    admin.disconnect();
  }
}
