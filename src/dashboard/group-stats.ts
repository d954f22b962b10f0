import type { StreamStorage } from '../storage/stream-storage.js';
import { type GroupNumbers, groupKey } from './view.js';

/**
 * Pending count and lag of every (stream, group) the consumers read, one `storage.groups(stream)`
 * (XINFO GROUPS) per distinct stream. A stream that cannot be read (missing, Redis down) yields no
 * entry for its groups rather than an error: the caller shows "unknown".
 */
export async function readGroupNumbers(
  storage: Pick<StreamStorage, 'groups'>,
  consumers: readonly { stream: string; group: string }[],
): Promise<Map<string, GroupNumbers>> {
  const streams = [...new Set(consumers.map((c) => c.stream))];
  const wanted = new Set(consumers.map((c) => groupKey(c.stream, c.group)));
  const out = new Map<string, GroupNumbers>();
  const results = await Promise.allSettled(
    streams.map(async (stream) => ({ stream, groups: await storage.groups(stream) })),
  );
  for (const result of results) {
    if (result.status !== 'fulfilled') continue;
    for (const info of result.value.groups) {
      const key = groupKey(result.value.stream, info.name);
      if (wanted.has(key)) out.set(key, { pending: info.pending, lag: info.lag });
    }
  }
  return out;
}
