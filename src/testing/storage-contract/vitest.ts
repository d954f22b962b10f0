import type * as Vitest from 'vitest';

// vitest is an optional peer dependency of `streamvisor/testing`: only the storage contract suite
// needs it. A static import would make the whole entry fail to load without vitest (createTestRuntime
// and TestClock work under any test runner), so it is loaded here, once, and may be missing.
const loaded: typeof Vitest | undefined = await import('vitest').catch(() => undefined);

/** The vitest API; throws an error that names the missing peer dependency when it is not installed. */
export function vitest(): typeof Vitest {
  if (loaded === undefined) {
    throw new Error(
      'describeStreamStorageContract runs on vitest, an optional peer dependency of streamvisor/testing: npm install --save-dev vitest',
    );
  }
  return loaded;
}
