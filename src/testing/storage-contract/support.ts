import type { StreamStorage } from '../../storage/stream-storage.js';
import type { StorageContractFixture } from '../storage-contract.js';
import { vitest } from './vitest.js';

/** Upper bound on scheduling noise for real Redis; a simulated clock is exact. */
const SLACK_MS = 1000;

/** After `sleep(ms)`, an idle time is at least `ms` (2 ms for clock rounding) and not absurdly more. */
export function expectIdleAbout(idleMs: number, ms: number): void {
  const { expect } = vitest();
  expect(idleMs).toBeGreaterThanOrEqual(ms - 2);
  expect(idleMs).toBeLessThan(ms + SLACK_MS);
}

/** Settle a promise into its value or its error, so a rejection is never unhandled while we wait. */
export function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.then(
    (value) => value,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}

/** A stream with a group at `0` and `n` entries `{ type: 't', n: '<i>' }`; resolves their ids. */
export async function streamWithEntries(
  f: StorageContractFixture,
  n: number,
  label = 'stream',
): Promise<{ stream: string; group: string; ids: string[]; storage: StreamStorage }> {
  const { expect } = vitest();
  const stream = f.key(label);
  const group = 'g';
  const { storage } = f;
  expect(await storage.ensureGroup(stream, group, '0')).toBe(true);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await storage.add(stream, { type: 't', n: String(i) }));
  return { stream, group, ids, storage };
}
