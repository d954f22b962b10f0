// streamvisor/testing: deterministic tests of code that embeds streamvisor (named exports only).

export {
  createTestRuntime,
  type TestRuntime,
  type TestRuntimeOptions,
} from './create-test-runtime.js';
export {
  describeStreamStorageContract,
  type StorageContractFixture,
} from './storage-contract.js';
export { DEFAULT_EPOCH_MS, TestClock } from './test-clock.js';
export { flushPromises, type SettleOptions, TimeDriver, type WaitOptions } from './time-driver.js';
