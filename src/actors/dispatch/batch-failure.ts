import type { DeadLetterInput } from '../../machines/dispatch-worker-machine.js';
import {
  canSchedule,
  reportDeadLetter,
  reportDeadLetterFailed,
  reportRetry,
  reportScheduled,
  scheduleRetry,
  writeDeadLetter,
} from '../retry/failure-path.js';
import type { Batch } from './batch.js';
import type { DispatchJob } from './dispatch-job.js';

// A batch's failure path, as the worker machine's states call for it (worker-actor.ts): the batch
// retries as one (`retrying`), but once its attempts are used up every message goes its own way,
// with its own reason and error: a durable retry (`scheduling`) or a dead letter (`deadLettering`).
// Each message leaves the batch (and the pool) as soon as its own write is done.

/** Attempt `attempt` of the batch failed and another follows: each message that failed is reported. */
export function reportBatchRetry(batch: Batch, attempt: number, delayMs: number, error: string): void {
  for (const member of batch.active()) {
    reportRetry(batch.deps, member, attempt, delayMs, batch.errors.get(member) ?? error);
  }
}

/** Whether `scheduling` has work: a scheduler is configured and a message without a verdict can take it. */
export function batchCanSchedule(batch: Batch): boolean {
  return batch.deps.retryScheduler !== undefined && batch.active().some((m) => canSchedule(batch.deps, m));
}

/** The dead letter a member gets: its verdict, else the worker's reason with its own last error. */
function deadInput(batch: Batch, member: DispatchJob, input: DeadLetterInput): DeadLetterInput {
  const verdict = batch.verdicts.get(member);
  if (verdict !== undefined) return { ...input, ...verdict };
  return { ...input, error: batch.errors.get(member) ?? input.error };
}

async function deadLetterOne(batch: Batch, member: DispatchJob, input: DeadLetterInput): Promise<void> {
  const own = deadInput(batch, member, input);
  let id: string;
  try {
    id = await writeDeadLetter(batch.deps, member, own);
  } catch (error) {
    reportDeadLetterFailed(batch.deps, member, own, error);
    throw error;
  }
  reportDeadLetter(batch.deps, member, own, id);
  batch.settle(member, false);
}

/**
 * `deadLettering` of a batch: every message still in it, each with its own reason and error. Rejects
 * when a write failed: that message stays pending (remembered, dead-lettered when it comes back).
 */
export async function deadLetterBatch(batch: Batch, input: DeadLetterInput): Promise<string> {
  const results = await Promise.allSettled(
    batch.members.map((member) => deadLetterOne(batch, member, input)),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return batch.firstId;
}

/**
 * `scheduling` of a batch: each message without a verdict that the scheduler can take is handed to
 * it; the others are dead-lettered (their verdict, or `handler-error`). Resolves the longest delay;
 * rejects when one failed (the worker then dead-letters what is left).
 */
export async function scheduleBatch(batch: Batch, input: DeadLetterInput): Promise<number> {
  const { deps } = batch;
  const results = await Promise.allSettled(
    [...batch.members].map(async (member) => {
      if (batch.verdicts.has(member) || !canSchedule(deps, member)) {
        await deadLetterOne(batch, member, input);
        return 0;
      }
      const delayMs = await scheduleRetry(deps, member);
      reportScheduled(deps, member, { ...input, error: batch.errors.get(member) ?? input.error }, delayMs);
      batch.settle(member, false);
      return delayMs;
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return Math.max(0, ...results.map((result) => (result.status === 'fulfilled' ? result.value : 0)));
}
