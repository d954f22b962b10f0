import { isRetriable } from '../../machines/classify-error.js';
import { maxId } from '../../machines/ids.js';
import type { StreamEntry } from '../../storage/stream-storage.js';
import type { ConsumerDeps } from '../consumer-deps.js';

/** Page size of the own-PEL walk. */
const PEL_PAGE = 100;

/** What recovery needs from the consumer's I/O session. */
export interface RecoveryHost {
  readonly deps: ConsumerDeps;
  readonly held: ReadonlyMap<string, unknown>;
  readonly free: number;
  readonly pool: { dispatch(entries: readonly StreamEntry[]): void };
  /** Ids handled here whose XACK is queued or in flight: still pending, but done. */
  unconfirmedAcks(): ReadonlySet<string>;
  whenFree(): Promise<void>;
}

/**
 * Recovery, as the consumer machine's `recovering` state runs it:
 * 1. with `ownPel`, re-process this consumer's own pending entries (a crash or a stop left them),
 *    claiming them (XCLAIM, min idle 0: the delivery count goes up, which is what poison detection
 *    reads) and dispatching them as workers free up;
 * 2. walk XAUTOCLAIM over the whole PEL (every page, not just the first) for entries idle past
 *    `claim.minIdleMs` in other consumers (their owners died);
 * 3. remove consumer names idle past `staleConsumerMs` that have nothing pending.
 * `claims: false` stops after step 1 (a leased partition's new owner: see lease-gate.ts).
 * Resolves whether it went through (`stopped()` cuts it short) and the newest id it recovered.
 */
export async function recoverPending(
  host: RecoveryHost,
  options: { ownPel: boolean; stopped: () => boolean; claims?: boolean },
): Promise<{ complete: boolean; lastId: string | null }> {
  const { spec, storage, logger } = host.deps;
  const { stopped } = options;
  let recovered = 0;
  let lastId: string | null = null;
  // A message this consumer holds, or handled and is acking, is still pending and may be idle, so a
  // claim returns it; running it again would be a duplicate. What matters is what was ours when the
  // claim was SENT: its reply can be read after the XACK of such a message was confirmed (both
  // replies in one read from the socket, the XACK's continuation first), when the message is in
  // neither set any more. So each claim's ids are checked against both moments.
  const ours = (): ReadonlySet<string> => new Set([...host.held.keys(), ...host.unconfirmedAcks()]);
  const take = (entries: readonly StreamEntry[], oursAtSend: ReadonlySet<string>) => {
    if (entries.length === 0) return;
    const acking = host.unconfirmedAcks();
    const fresh = entries.filter((entry) => !oursAtSend.has(entry.id) && !acking.has(entry.id));
    recovered += fresh.length;
    for (const entry of fresh) lastId = maxId(lastId, entry.id);
    host.pool.dispatch(fresh);
  };
  if (options.ownPel) {
    let start = '-';
    for (;;) {
      const page = await storage.pending(spec.stream, spec.group, {
        consumer: spec.consumer,
        count: PEL_PAGE,
        start,
      });
      const last = page.at(-1);
      if (last === undefined) break;
      start = `(${last.id}`;
      const ids = page.filter((p) => !host.held.has(p.id)).map((p) => p.id);
      while (ids.length > 0) {
        await host.whenFree();
        if (stopped()) return { complete: false, lastId };
        const chunk = ids.splice(0, host.free);
        const oursAtSend = ours();
        const claimed = await storage.claim(spec.stream, spec.group, spec.consumer, chunk, { minIdleMs: 0 });
        // A stop that came while the claim was in flight: what it returned stays pending.
        if (stopped()) return { complete: false, lastId };
        take(claimed.entries, oursAtSend);
      }
    }
  }
  if (options.claims === false) return { complete: true, lastId };
  let cursor = '0-0';
  do {
    await host.whenFree();
    if (stopped()) return { complete: false, lastId };
    const oursAtSend = ours();
    const page = await storage.autoClaim(spec.stream, spec.group, spec.consumer, {
      minIdleMs: spec.claim.minIdleMs,
      count: Math.max(1, host.free),
      cursor,
    });
    if (stopped()) return { complete: false, lastId };
    take(page.entries, oursAtSend);
    if (page.deletedIds.length > 0) {
      logger.warn(
        { ids: page.deletedIds.slice(0, 20), count: page.deletedIds.length },
        'pending entries no longer in the stream were dropped from the PEL',
      );
    }
    cursor = page.cursor;
  } while (cursor !== '0-0');
  if (recovered > 0) logger.info({ recovered }, 'recovered pending entries');
  await removeStaleConsumers(host.deps);
  return { complete: true, lastId };
}

/** Consumers whose cleanup failure was logged at warn: once per consumer, then debug. */
const warnedStale = new WeakSet<object>();

// Names of consumers that went away (default names carry a pid) would pile up in the group. Only
// names with nothing pending go, in one atomic step, so no pending entry is ever dropped; a failure
// here is housekeeping, never a reason to stop consuming. A refusal (an ACL without XINFO CONSUMERS
// or XGROUP DELCONSUMER: NOPERM) repeats every interval, so it is a warn once, naming the command.
async function removeStaleConsumers(deps: ConsumerDeps): Promise<void> {
  const { spec, storage, logger } = deps;
  if (spec.staleConsumerMs === null || storage.deleteIdleConsumers === undefined) return;
  try {
    const removed = await storage.deleteIdleConsumers(spec.stream, spec.group, {
      minIdleMs: spec.staleConsumerMs,
      keep: spec.consumer,
    });
    if (removed.length > 0) logger.info({ removed }, 'removed stale consumers with nothing pending');
  } catch (error) {
    const message = `could not remove stale consumers${deniedCommand(error)}`;
    const transient = isRetriable(error);
    if (transient || warnedStale.has(spec)) logger.debug({ err: error }, message);
    else logger.warn({ err: error }, message);
    if (!transient) warnedStale.add(spec);
  }
}

/**
 * What an ACL refusal of the cleanup names: Redis 7.2+ says which command (`NOPERM … 'xinfo|consumers'
 * command`); 7.0 says only that a script's command was refused, so both commands are named.
 */
function deniedCommand(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const named = /NOPERM.*?'([^']+)' command/.exec(text)?.[1];
  const grants = named === undefined ? '+xinfo|consumers +xgroup|delconsumer' : `+${named}`;
  if (named === undefined && !/NOPERM|can't run this command/.test(text)) return '';
  const what = named ?? 'XINFO CONSUMERS or XGROUP DELCONSUMER (the cleanup script)';
  return `: the Redis user may not run ${what}; grant ${grants}, or set staleConsumerMs: false`;
}
