/**
 * One process of the scale case: runs one streamvisor runtime on the group given in
 * SV_BENCH_SCALE (JSON), tells the parent `ready` over IPC, and on `stop` stops and reports its
 * handler calls and payload checksum. Started by scale-two-processes.ts, not by hand.
 */
import { startStreamvisor } from '../lib/streamvisor-drain.js';

interface Config {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  concurrency: number;
  dropAcks?: boolean;
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('scale-worker must be started with an IPC channel (fork)');
  const config = JSON.parse(process.env.SV_BENCH_SCALE ?? 'null') as Config | null;
  if (config === null) throw new Error('SV_BENCH_SCALE is not set');
  let checksum = 0;
  const handle = await startStreamvisor(config, ({ i }) => {
    checksum += i;
  });
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'stop') return;
    void handle.stop().then(() => {
      send({ type: 'done', calls: handle.calls(), processed: handle.processed(), checksum }, () =>
        process.exit(0),
      );
    });
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
