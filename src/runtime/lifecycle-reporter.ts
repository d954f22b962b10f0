import type { Logger } from 'pino';
import type { EventBus } from '../actors/runtime-events.js';
import type { Clock } from '../clock.js';
import { StreamvisorError } from '../errors/streamvisor-error.js';
import type { ConsumerContext } from '../machines/consumer-machine.js';
import type { ReportKind, SupervisorContext } from '../machines/supervisor-machine.js';

/**
 * Turns the machines' `report` actions into log lines (one per lifecycle change, never per message)
 * and runtime events, and remembers each consumer's last exit for snapshots.
 */
export class LifecycleReporter {
  readonly lastExit = new Map<string, { reason: string; error: string | null }>();
  #loggers: ReadonlyMap<string, Logger>;
  #bus: EventBus;
  #clock: Clock;

  constructor(loggers: ReadonlyMap<string, Logger>, bus: EventBus, clock: Clock) {
    this.#loggers = loggers;
    this.#bus = bus;
    this.#clock = clock;
  }

  consumerReport(context: ConsumerContext, kind: 'group.created' | 'backoff' | 'draining'): void {
    const at = this.#clock.now();
    if (kind === 'group.created') {
      const startId = context.lastId ?? context.startId;
      this.#bus.emit({ type: 'consumer.group-created', at, consumerId: context.id, startId });
    } else if (kind === 'backoff') {
      const log = this.#loggers.get(context.id);
      log?.warn({ attempt: context.backoffAttempt, error: context.error }, 'connection error; backing off');
      this.#bus.emit({
        type: 'consumer.backoff',
        at,
        consumerId: context.id,
        attempt: context.backoffAttempt,
        error: context.error,
      });
    }
  }

  supervisorReport(context: SupervisorContext, event: { type: string }, kind: ReportKind): void {
    const at = this.#clock.now();
    const { actorId, output, error } = event as {
      actorId?: string;
      output?: { reason: string; error: string | null };
      error?: unknown;
    };
    if (kind === 'exited' && actorId) {
      const reason = output?.reason ?? 'fatal';
      const text = output ? output.error : String(error);
      this.lastExit.set(actorId, { reason, error: text });
      if (reason !== 'stopped') this.#loggers.get(actorId)?.warn({ reason, error: text }, 'consumer exited');
      this.#bus.emit({ type: 'consumer.exited', at, consumerId: actorId, reason, error: text });
    } else if (kind === 'restart.scheduled' && actorId) {
      this.#bus.emit({
        type: 'consumer.restarting',
        at,
        consumerId: actorId,
        reason: this.lastExit.get(actorId)?.reason ?? 'fatal',
        attempt: (context.attempts[actorId] ?? 0) + 1,
      });
    } else if (kind === 'restarted') {
      const id = (event as { id?: string }).id ?? '';
      const reason = this.lastExit.get(id)?.reason ?? 'fatal';
      this.#loggers.get(id)?.info({ reason, restarts: context.restarts[id] }, 'consumer restarted');
      this.#bus.emit({
        type: 'consumer.restarted',
        at,
        consumerId: id,
        reason,
        restarts: context.restarts[id] ?? 0,
      });
    }
  }

  /** The supervisor gave up: log it, report `runtime.failed`, and return the runtime's fatal error. */
  restartLimitPassed(logger: Logger, consumerId: string | null, lastError: string | null): StreamvisorError {
    const error = new StreamvisorError(
      `Consumer "${consumerId}" passed the restart limit (supervisor.maxRestarts within periodMs); last error: ${lastError ?? 'unknown'}`,
      'RESTART_LIMIT',
      false,
    );
    logger.error({ consumerId, error: lastError }, 'runtime failed: restart limit passed');
    this.#bus.emit({ type: 'runtime.failed', at: this.#clock.now(), consumerId, error: error.message });
    return error;
  }
}
