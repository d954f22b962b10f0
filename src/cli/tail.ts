import { Command, InvalidArgumentError, Option } from 'commander';
import type { Redis } from 'ioredis';
import type { RangeEntry, StreamFields } from '../index.js';
import { integerArg } from './arguments.js';
import { escapeControls, jsonLine, line } from './output.js';
import { openRedis, redisOption, requireRedisUrl } from './redis.js';
import { keyTypes } from './stream-check.js';

interface TailOptions {
  redis?: string;
  stream: string;
  from: string;
  limit?: number;
  json?: boolean;
}

const BLOCK_MS = 2000;
const BATCH = 100;

function fromArg(value: string): string {
  if (value === '$' || /^\d+(-\d+)?$/.test(value)) return value;
  throw new InvalidArgumentError('expected "$" (only new entries), "0" (the whole stream) or a stream id.');
}

function pairs(flat: readonly string[]): StreamFields {
  const fields: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] ?? ''] = flat[i + 1] ?? '';
  return fields;
}

/** XREAD's RESP2 reply: null, or [[stream, [[id, [field, value, …]], …]]]. */
function parseXRead(reply: unknown): RangeEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: RangeEntry[] = [];
  for (const [, items] of reply as [string, [string, string[]][]][]) {
    for (const [id, flat] of items) entries.push({ id, fields: pairs(flat ?? []) });
  }
  return entries;
}

/** `$` means "after the last entry now": resolve it once, so nothing added between reads is missed. */
async function startId(client: Redis, stream: string, from: string): Promise<string> {
  if (from !== '$') return from;
  const [last] = (await client.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last?.[0] ?? '0-0';
}

/**
 * A stream appears with its first entry, so tail waits for one that does not exist yet, but says so
 * on stderr (a mistyped name would otherwise wait in silence); another type of key is an error.
 */
async function noticeMissing(client: Redis, stream: string, where: string): Promise<void> {
  const type = (await keyTypes(client, [stream])).get(stream);
  if (type === 'stream') return;
  if (type !== 'none') throw new Error(`"${stream}" is a ${type}, not a stream, on ${where}`);
  process.stderr.write(
    `${escapeControls(`stream "${stream}" does not exist yet on ${where}; waiting for its first entry (Ctrl-C to stop; \`streamvisor status\` lists every stream)`)}\n`,
  );
}

/**
 * One entry on one line: `id  type  payload  header=value …`, control characters escaped (newlines
 * too: one entry, one line).
 *
 * @example
 * formatEntry({ id: '1-0', fields: { type: 't', payload: '{"a":1}' } }) // '1-0  t  {"a":1}'
 */
function formatEntry(entry: RangeEntry): string {
  const { type, payload, ...headers } = entry.fields;
  const parts = [entry.id, type ?? '(no type)'];
  if (payload !== undefined) parts.push(payload);
  for (const [key, value] of Object.entries(headers)) parts.push(`${key}=${value}`);
  return escapeControls(parts.join('  '));
}

/**
 * `streamvisor tail`: follow a stream's new entries live with XREAD BLOCK (no consumer group, so it
 * changes nothing), until Ctrl-C.
 *
 * @example
 * program.addCommand(tailCommand())
 */
export function tailCommand(): Command {
  return new Command('tail')
    .description('print new entries of a stream as they arrive (read-only: no group, no ack), until Ctrl-C')
    .addOption(redisOption())
    .requiredOption('--stream <name>', 'the stream to follow')
    .addOption(
      new Option('--from <id>', '"$" = only new entries, "0" = from the start, or an id to start after')
        .argParser(fromArg)
        .default('$'),
    )
    .addOption(new Option('--limit <n>', 'exit after this many entries').argParser(integerArg(1)))
    .option('--json', 'one JSON object per line: {"stream","id","fields"}')
    .addHelpText('after', '\nExample:\n  streamvisor tail --stream orders --from 0 --json')
    .action(async (options: TailOptions) => {
      const url = await requireRedisUrl(options.redis);
      const session = await openRedis(url, { commandTimeoutMs: null });
      let stopping = false;
      const stop = () => {
        stopping = true;
        session.client.disconnect();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let printed = 0;
      try {
        await noticeMissing(session.client, options.stream, session.where);
        let lastId = await startId(session.client, options.stream, options.from);
        while (!stopping) {
          let reply: unknown;
          try {
            reply = await session.client.call(
              'XREAD',
              'COUNT',
              BATCH,
              'BLOCK',
              BLOCK_MS,
              'STREAMS',
              options.stream,
              lastId,
            );
          } catch (error) {
            if (stopping) break;
            throw error;
          }
          for (const entry of parseXRead(reply)) {
            lastId = entry.id;
            if (options.json) jsonLine({ stream: options.stream, ...entry });
            else line(formatEntry(entry));
            printed++;
            if (options.limit !== undefined && printed >= options.limit) stopping = true;
            if (stopping) break;
          }
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await session.close();
      }
    });
}
