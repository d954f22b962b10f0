/**
 * How many of `partitions` partitions member `me` should hold among `members` (sorted, every member
 * computes the same): `floor(N / m)`, one more for the first `N mod m` members, so the shares add up
 * to exactly N. A member missing from the list (it was not announced yet) gets none.
 *
 * @example
 * fairShare(['a', 'b', 'c', 'd'], 'a', 6) // 2 (a and b hold 2, c and d hold 1)
 */
export function fairShare(members: readonly string[], me: string, partitions: number): number {
  const rank = members.indexOf(me);
  if (rank < 0) return 0;
  const base = Math.floor(partitions / members.length);
  return base + (rank < partitions % members.length ? 1 : 0);
}
