import { StreamvisorError, type StreamvisorErrorOptions } from './streamvisor-error.js';

/**
 * The consumer group (or its stream) does not exist: Redis replied `-NOGROUP`, or the in-memory
 * storage has no such group. The consumer machine exits with reason `nogroup` and its supervisor
 * recreates the group; callers of the storage directly should call `ensureGroup` first.
 *
 * @example
 * if (error instanceof NoGroupError) await storage.ensureGroup(error.stream, error.group, '$')
 */
export class NoGroupError extends StreamvisorError {
  override name = 'NoGroupError';
  readonly stream: string;
  readonly group: string;

  constructor(stream: string, group: string, options: StreamvisorErrorOptions = {}) {
    super(
      `Consumer group "${group}" of stream "${stream}" does not exist (NOGROUP); create it with ensureGroup(stream, group, startId)`,
      'NOGROUP',
      false,
      options,
    );
    this.stream = stream;
    this.group = group;
  }
}
