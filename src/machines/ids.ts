/** The system id of a consumer incarnation's worker, so its I/O session can address it. */
export function workerSystemId(session: string, workerId: string): string {
  return `${session}/${workerId}`;
}

/** The larger of two stream ids (either may be null). */
export function maxId(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  if (am.length !== bm.length) return am.length > bm.length ? a : b;
  if (am !== bm) return am > bm ? a : b;
  if (as.length !== bs.length) return as.length > bs.length ? a : b;
  return as >= bs ? a : b;
}

/** The newest id an event carries: its `lastId` (`io.read.failed`), or its output's (`io.read.done`, the drain's). */
export function lastIdOf(event: object): string | null {
  const from = 'output' in event ? event.output : event;
  return typeof from === 'object' && from !== null && 'lastId' in from
    ? (from.lastId as string | null)
    : null;
}

/** The new last id a `createGroup` output carries when the group was created below the old one. */
export function rewoundTo(event: object): string | undefined {
  return (event as { output?: { rewoundTo?: string } }).output?.rewoundTo;
}

/** The id of a consumer's `index`th dispatch worker: `w0 … wN-1`, stable across incarnations. */
export function workerId(index: number): string {
  return `w${index}`;
}
