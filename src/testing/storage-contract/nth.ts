/** `items[index]`, or a clear failure when the list is shorter (a fixture that made fewer than the test uses). */
export function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new Error(`Expected an item at index ${index}, but the list has ${items.length}`);
  return item;
}
