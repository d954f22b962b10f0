import { afterEach, beforeEach, describe } from 'vitest';
import type { StreamStorage } from '../../src/storage/stream-storage.js';
import { claimCases } from './cases/claims.js';
import { entryCases } from './cases/entries.js';
import { errorCases } from './cases/errors.js';
import { groupCases } from './cases/groups.js';
import { readCases } from './cases/reads.js';
import { retentionCases } from './cases/retention.js';

/** What the contract suite needs from one storage under test. */
export interface StorageFixture {
  storage: StreamStorage;
  /** Let `ms` of storage time pass: a real sleep for Redis, advancing a SimulatedClock for memory. */
  sleep(ms: number): Promise<void>;
  /** A key unique to this test. */
  key(label: string): string;
  /** Remove what the test created; runs after every test, also when the storage was closed. */
  cleanup(): Promise<void>;
  /**
   * Delete a whole stream key (Redis `DEL`), which the StreamStorage interface cannot do.
   * Optional: tests that need it are skipped without it.
   */
  deleteStream?(stream: string): Promise<void>;
}

/** Returns the fixture of the running test. */
export type UseFixture = () => StorageFixture;

/**
 * Register the StreamStorage contract suite: every test gets a fresh fixture from `makeFixture`.
 * Bodies measure time only through `fixture.sleep`, so they pass on real time and on a simulated clock.
 *
 * @example
 * describeStorageContract('RedisStreamStorage', async () => ({ storage, sleep, key, cleanup }))
 */
export function describeStorageContract(name: string, makeFixture: () => Promise<StorageFixture>): void {
  describe(`StreamStorage contract: ${name}`, () => {
    let fixture: StorageFixture | undefined;
    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      const current = fixture;
      fixture = undefined;
      await current?.cleanup();
    });
    const use: UseFixture = () => {
      if (fixture === undefined) throw new Error('the storage fixture is only available inside a test');
      return fixture;
    };
    entryCases(use);
    groupCases(use);
    readCases(use);
    claimCases(use);
    errorCases(use);
    retentionCases(use);
  });
}
