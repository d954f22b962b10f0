import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type FaultContext, onPrivateRedis, startWorker, within } from './fault-support.js';

// Fault 6: a fault that persists — the stream key replaced by a string, so every stream command
// answers WRONGTYPE — makes the consumer exit `fatal` on every incarnation. Past supervisor.maxRestarts
// the supervisor escalates: the runtime ends `failed`, onFatal is called once, and every connection
// and timer is closed, so the process (a worker-process.ts child that never calls process.exit) ends
// by itself. `beforeExit` only fires once the event loop is empty: its resource list is the proof.

afterEach(() => expectNoLeaks());

describe('fault: a persistent fault passes the restart limit', () => {
  it(
    'the runtime fails, onFatal is called once, and the process exits on its own',
    { timeout: 60_000 },
    onPrivateRedis(scenario),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:wrongtype';
  await admin.set(stream, 'not a stream');
  const worker = startWorker(
    {
      url: server.url,
      stream,
      group: 'g',
      consumers: ['w1', 'w2'],
      blockMs: 300,
      supervisor: { maxRestarts: 3, periodMs: 60_000, backoff: { minMs: 20, maxMs: 100 } },
    },
    ledger,
    'fatal worker',
  );
  const exit = await within(worker.exited, 30_000, 'the worker process to exit by itself').catch(
    async (error: unknown) => {
      const open = worker.lines.filter((l) => l.sv === 'resources');
      await worker.kill();
      throw new Error(`${String(error)}; resources: ${JSON.stringify(open)}; output: ${worker.tail()}`);
    },
  );
  expect(exit, worker.tail()).toEqual({ code: 0, signal: null });

  const fatal = worker.lines.filter((l) => l.sv === 'fatal');
  expect(fatal).toHaveLength(1);
  expect(String(fatal[0]!.message)).toMatch(/restart limit/);
  expect(String(fatal[0]!.message)).toMatch(/WRONGTYPE/);
  expect(worker.lines.find((l) => l.sv === 'done')).toMatchObject({ status: 'failed' });
  const events = worker.lines.filter((l) => l.sv === 'event').map((l) => l.event as { type: string });
  expect(events.filter((e) => e.type === 'runtime.failed')).toHaveLength(1);
  // maxRestarts counts the restarts of every child in the window (OTP's intensity): 3 restarts were
  // scheduled, the 4th fatal exit escalated (a restart still waiting for its delay never ran).
  const exits = events.filter((e) => e.type === 'consumer.exited') as { type: string; reason?: string }[];
  expect(exits.filter((e) => e.reason === 'fatal').length).toBeGreaterThanOrEqual(4);
  const restarted = events.filter((e) => e.type === 'consumer.restarted').length;
  expect(restarted).toBeGreaterThanOrEqual(1);
  expect(restarted).toBeLessThanOrEqual(3);
  // The loop emptied: nothing is left open but, at most, the stdio pipes.
  const atExit = worker.lines.find((l) => l.sv === 'resources' && l.when === 'beforeExit');
  expect(atExit, 'beforeExit fired (the event loop emptied on its own)').toBeDefined();
  const active = (atExit!.active as string[]).filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
  expect(active).toEqual([]);
  console.info(
    `[faults] restart limit: resources at done ${JSON.stringify(worker.lines.find((l) => l.when === 'done')?.active)}, at beforeExit ${JSON.stringify(atExit!.active)}`,
  );
  expect(await admin.type(stream)).toBe('string'); // the runtime did not "repair" the key
}
