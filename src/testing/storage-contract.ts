import type { StreamStorage } from '../storage/stream-storage.js';
import { ackAndAddCases } from './storage-contract/ack-and-add.js';
import { claimCases } from './storage-contract/claims.js';
import { entryCases } from './storage-contract/entries.js';
import { errorCases } from './storage-contract/errors.js';
import { groupCases } from './storage-contract/groups.js';
import { leaseCases } from './storage-contract/leases.js';
import { previewCases } from './storage-contract/previews.js';
import { readCases } from './storage-contract/reads.js';
import { retentionCases } from './storage-contract/retention.js';
import { vitest } from './storage-contract/vitest.js';

/** What the storage contract suite needs from one storage under test, made fresh for every test. */
export interface StorageContractFixture {
  /** The storage under test; `cleanup` closes it (tests may close it first). */
  storage: StreamStorage;
  /**
   * Let `ms` of storage time pass: a real sleep for a storage on a server, advancing the simulated
   * clock for one that runs on a `Clock` (as `MemoryStreamStorage({ clock })`).
   */
  sleep(ms: number): Promise<void>;
  /** A key unique to this test (so tests can share a server, and run again without a flush). */
  key(label: string): string;
  /** Remove what the test created; runs after every test, also when the storage was closed. */
  cleanup(): Promise<void>;
  /**
   * Delete a whole stream key (Redis `DEL`), which the StreamStorage interface cannot do.
   * Optional: the two tests that need it are skipped without it.
   */
  deleteStream?(stream: string): Promise<void>;
}

/** Returns the fixture of the running test. */
export type UseFixture = () => StorageContractFixture;

/**
 * Register the `StreamStorage` contract suite with vitest: the behaviour streamvisor's runtime relies
 * on (Redis Streams semantics: ids, consumer groups, PEL, delivery counts, claims, blocking reads,
 * `NoGroupError`, argument checks, `close()`), the same suite `RedisStreamStorage` and
 * `MemoryStreamStorage` pass. Every test gets a fresh fixture from `makeFixture` and measures time
 * only through `fixture.sleep`, so the suite runs on real time and on a simulated clock.
 *
 * Call it at the top level of a vitest test file. vitest (≥ 3) is an optional peer dependency of
 * `streamvisor/testing`, needed only here; this function throws when it is not installed. Which
 * methods are required and which optional: docs/storage.md.
 *
 * @example
 * import { describeStreamStorageContract } from 'streamvisor/testing'
 *
 * describeStreamStorageContract('MyStreamStorage', async () => {
 *   const storage = new MyStreamStorage(process.env.MY_SERVER_URL)
 *   const prefix = `contract:${crypto.randomUUID()}`
 *   return {
 *     storage,
 *     sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
 *     key: (label) => `${prefix}:${label}`,
 *     cleanup: () => storage.close(),
 *   }
 * })
 */
export function describeStreamStorageContract(
  name: string,
  makeFixture: () => Promise<StorageContractFixture>,
): void {
  const { afterEach, beforeEach, describe } = vitest();
  describe(`StreamStorage contract: ${name}`, () => {
    let fixture: StorageContractFixture | undefined;
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
    previewCases(use);
    leaseCases(use);
    ackAndAddCases(use);
  });
}
