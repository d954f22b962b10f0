/** `type` and `handler` of `router.on` / `router.batch`: a non-empty string and a function. */
export function checkRoute(type: unknown, handler: unknown, what: string): void {
  if (typeof type !== 'string' || type === '') {
    throw new TypeError(`Expected \`type\` to be a non-empty string, got ${describe(type)}`);
  }
  if (typeof handler !== 'function') {
    throw new TypeError(`Expected the ${what} of "${type}" to be a function, got ${describe(handler)}`);
  }
}

/** A value as an argument error names it. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : `"${value}"`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
