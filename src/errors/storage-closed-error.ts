import { StreamvisorError } from './streamvisor-error.js';

/**
 * A storage method was called after `close()`. Create a new storage instead of reusing a closed one.
 *
 * @example
 * await storage.close(); await storage.add('s', { type: 't' }) // rejects with StorageClosedError
 */
export class StorageClosedError extends StreamvisorError {
  override name = 'StorageClosedError';

  constructor(method: string) {
    super(
      `Cannot call ${method}() on a closed storage; create a new storage instance`,
      'STORAGE_CLOSED',
      false,
    );
  }
}
