import { StreamvisorError } from '../errors/streamvisor-error.js';

/**
 * The error for a call the runtime's status does not allow (code `RUNTIME_STATE`, not retriable):
 * `start()` after `stop()`, `inspect()` before `start()`, `setConcurrency` once stopping.
 *
 * @example
 * throw runtimeStateError('This runtime was stopped; create a new one with createRuntime()')
 */
export function runtimeStateError(message: string): StreamvisorError {
  return new StreamvisorError(message, 'RUNTIME_STATE', false);
}
