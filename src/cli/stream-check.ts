import type { Redis } from 'ioredis';

/**
 * The Redis type of each key (`TYPE`): `'stream'`, `'none'` when it does not exist, or another type.
 *
 * @example
 * await keyTypes(client, ['orders']) // Map { 'orders' => 'stream' }
 */
export async function keyTypes(client: Redis, keys: readonly string[]): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  for (const key of keys) types.set(key, String(await client.call('TYPE', key)));
  return types;
}

/**
 * Throw an error that names every key of `streams` that is not a stream: a mistyped `--stream`
 * should say so, not print a row of zeros.
 *
 * @example
 * await requireStreams(client, ['orders'], 'redis://127.0.0.1:6379')
 */
export async function requireStreams(
  client: Redis,
  streams: readonly string[],
  where: string,
): Promise<void> {
  const problems: string[] = [];
  for (const [key, type] of await keyTypes(client, streams)) {
    if (type === 'none') problems.push(`no stream "${key}"`);
    else if (type !== 'stream') problems.push(`"${key}" is a ${type}, not a stream`);
  }
  if (problems.length > 0) {
    throw new Error(`${problems.join('; ')} on ${where} (\`streamvisor status\` lists every stream)`);
  }
}
