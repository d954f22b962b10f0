import { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';

// The contract suite on the in-memory storage, with time moved by hand: `sleep(ms)` advances a
// SimulatedClock (firing due blockMs timeouts), then lets the promises it settled run.
describeStreamStorageContract('MemoryStreamStorage', async () => {
  const clock = new SimulatedClock();
  clock.set(1_700_000_000_000);
  const storage = new MemoryStreamStorage({ clock });
  return {
    storage,
    async sleep(ms) {
      clock.increment(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    key: (label) => `memory:${label}`,
    async deleteStream(stream) {
      await storage.deleteStream(stream);
    },
    cleanup: () => storage.close(),
  };
});
