import { InvalidArgumentError } from 'commander';

const STREAM_ID = /^\d+(-\d+)?$/;

/**
 * A commander argument parser for an integer ≥ `min`.
 *
 * @example
 * new Option('--count <n>').argParser(integerArg(1))
 */
export function integerArg(min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}".`);
    }
    return parsed;
  };
}

/**
 * A commander argument parser for a number of seconds ≥ 0 (fractions allowed).
 *
 * @example
 * new Option('--duration <seconds>').argParser(secondsArg)
 */
export function secondsArg(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected a number of seconds ≥ 0, got "${value}".`);
  }
  return parsed;
}

/**
 * A commander parser for repeatable stream ids (`1700000000000-0`): collects them into an array.
 *
 * @example
 * new Option('--id <id...>').argParser(streamIdsArg)
 */
export function streamIdsArg(value: string, previous: string[] | undefined): string[] {
  if (!STREAM_ID.test(value)) {
    throw new InvalidArgumentError(`expected a stream id like 1700000000000-0, got "${value}".`);
  }
  return [...(previous ?? []), value];
}

/**
 * A commander parser for repeatable names (streams): collects them, rejecting empty ones.
 *
 * @example
 * new Option('--stream <name...>').argParser(namesArg)
 */
export function namesArg(value: string, previous: string[] | undefined): string[] {
  if (value === '') throw new InvalidArgumentError('expected a non-empty name.');
  return [...(previous ?? []), value];
}

/**
 * A commander parser for repeatable `key=value` headers: collects them into an object.
 *
 * @example
 * new Option('--header <key=value...>').argParser(headerArg)
 */
export function headerArg(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}".`);
  const key = value.slice(0, eq);
  if (key === 'type' || key === 'payload') {
    throw new InvalidArgumentError(`"${key}" is not a header; use --${key} instead.`);
  }
  return { ...(previous ?? {}), [key]: value.slice(eq + 1) };
}
