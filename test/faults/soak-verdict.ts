/**
 * The soak's pass rule, apart from the soak so a unit test can show that each clause fails the run
 * (test/unit/soak-verdict.test.ts). The soak collects `SoakNumbers` at the end; `soakVerdict` lists
 * what is wrong, and any entry fails the run.
 */

/** What the soak counted by the end of a run. */
export interface SoakNumbers {
  /** Published, never handled nor dead-lettered nor (unrouted) delivered and acked, nor excused. */
  lost: number;
  /** Handled without having been published. */
  unexpected: number;
  /** XADDs whose reply was lost: each may have run and shows up as one `unexpected`. */
  publishFailures: number;
  /** Entries still in the group's PEL after the workers stopped. */
  pendingAtEnd: number;
  /** Valid `job` messages that ended in the dead-letter stream (any reason). */
  validDeadLettered: number;
  /** Bad input that ended anywhere but the dead-letter stream with its expected reason. */
  badInputMisrouted: number;
  /** Ids handled more than once. */
  duplicates: number;
  /** Ids excused by destructive faults (wipes, group destroys). */
  excused: number;
  /** Worker processes that exited other than with code 0 when asked to stop. */
  uncleanStops: number;
}

/** The limits the soak states (see `soakBounds`). */
export interface SoakBounds {
  maxDuplicates: number;
  maxExcused: number;
}

/**
 * Bounds derived from the faults a run inflicted. Each fault that can make a message be handled twice
 * (a killed worker or connection, a killed or paused Redis, a graceful restart past its deadline)
 * may re-deliver at most what was handled and not yet acked: two consumers × `concurrency` handlers
 * plus one ack batch each, bounded here by `duplicatesPerFault`. Each destructive fault (FLUSHALL, an
 * empty restart, XGROUP DESTROY) may excuse at most `excusedPerFault` ids: a wipe excuses only what a
 * settle could not finish among the ids published within `WIPE_WINDOW_MS` before it; a destroy only
 * the unhandled part of the PEL it dropped.
 */
export function soakBounds(
  faults: ReadonlyMap<string, number>,
  limits: { duplicatesPerFault: number; excusedPerFault: number },
): SoakBounds {
  const count = (names: readonly string[]) => names.reduce((n, name) => n + (faults.get(name) ?? 0), 0);
  const redelivering = count(['redis-kill', 'redis-pause', 'client-kill', 'worker-kill', 'worker-restart']);
  const destructive = count(['restart-empty', 'flushall', 'group-destroy']);
  return {
    maxDuplicates: redelivering * limits.duplicatesPerFault,
    maxExcused: destructive * limits.excusedPerFault,
  };
}

/** Everything that fails the run, one line each; empty when it passed. */
export function soakVerdict(n: SoakNumbers, bounds: SoakBounds): string[] {
  const problems: string[] = [];
  if (n.lost > 0) problems.push(`${n.lost} lost`);
  // An XADD whose reply was lost may have run: its entry is handled without being recorded.
  if (n.unexpected > n.publishFailures)
    problems.push(`${n.unexpected} handled without being published (${n.publishFailures} publish failures)`);
  if (n.pendingAtEnd > 0) problems.push(`${n.pendingAtEnd} still pending at the end`);
  if (n.validDeadLettered > 0) problems.push(`${n.validDeadLettered} valid messages dead-lettered`);
  if (n.badInputMisrouted > 0)
    problems.push(`${n.badInputMisrouted} bad-input entries not dead-lettered with their reason`);
  if (n.duplicates > bounds.maxDuplicates)
    problems.push(`${n.duplicates} duplicates, over the bound of ${bounds.maxDuplicates}`);
  if (n.excused > bounds.maxExcused)
    problems.push(`${n.excused} excused, over the bound of ${bounds.maxExcused}`);
  if (n.uncleanStops > 0) problems.push(`${n.uncleanStops} worker process(es) did not stop cleanly`);
  return problems;
}
