import { Command, Option } from 'commander';
import { DEAD_REASONS } from '../machines/dispatch-worker-machine.js';
import {
  type DeadLetterTarget,
  purgeDeadLetters,
  ReplayError,
  type Replayed,
  replayDeadLetters,
  resolveDeadLetters,
} from '../wire/dead-letter-actions.js';
import {
  DEFAULT_MAX_DEAD_LETTER_BYTES,
  type DeadLetter,
  DeadLetterTooLargeError,
  loadDeadLetter,
  type Selection,
  selectDeadLetters,
} from '../wire/dead-letters.js';
import { integerArg, streamIdsArg } from './arguments.js';
import { escapeControls, formatBytes, formatDuration, line, printJson, table, truncate } from './output.js';
import { startProgress } from './progress.js';
import { type RedisSession, redisOption, requireRedisUrl, withRedis } from './redis.js';
import { UsageError } from './usage-error.js';

interface DlqOptions {
  redis?: string;
  stream: string;
  deadStream?: string;
  id?: string[];
  reason?: string;
  all?: boolean;
  count?: number;
  maxBytes?: number;
  yes?: boolean;
  json?: boolean;
}

/** A dlq subcommand with the options every one of them takes. */
function dlqSubcommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(redisOption())
    .requiredOption('--stream <name>', 'the source stream; its dead letters are in <name>:dead')
    .option('--dead-stream <name>', 'the dead-letter stream, when not <stream>:dead')
    .option('--json', 'print JSON only');
}

function deadStreamOf(options: DlqOptions): string {
  return options.deadStream ?? `${options.stream}:dead`;
}

/** `--reason`: one of the reasons the runtime writes, else a usage error (exit 2) that lists them. */
function reasonOption(description: string): Option {
  return new Option('--reason <reason>', description).choices(DEAD_REASONS);
}

/**
 * A dead-letter stream appears with its first dead letter, so only a missing source stream *and* a
 * missing dead-letter stream mean a mistyped `--stream` (exit 1, naming both).
 */
async function requireKnownStream(session: RedisSession, options: DlqOptions): Promise<void> {
  const dead = deadStreamOf(options);
  if ((await session.client.exists(options.stream, dead)) > 0) return;
  throw new Error(
    `no stream "${options.stream}" and no dead-letter stream "${dead}" on ${session.where}: check --stream (\`streamvisor status\` lists every stream)`,
  );
}

/** `--id … | --reason R | --all`: exactly one, for the commands that change dead letters. */
function targetOf(options: DlqOptions, verb: string): DeadLetterTarget {
  const given = [options.id !== undefined, options.reason !== undefined, options.all === true].filter(
    Boolean,
  );
  if (given.length !== 1) {
    throw new UsageError(
      `say which dead letters to ${verb}: pass exactly one of --id ID…, --reason REASON or --all`,
    );
  }
  if (options.id !== undefined) return { ids: options.id };
  if (options.reason !== undefined) return { reason: options.reason };
  return { all: true };
}

function selectOptions(command: Command): Command {
  return command
    .addOption(new Option('--id <id...>', 'dead-letter ids (repeatable)').argParser(streamIdsArg))
    .addOption(reasonOption('every dead letter with this x-dead-reason'))
    .option('--all', 'every dead letter of the stream');
}

function ageOf(letter: DeadLetter): string {
  return letter.deadAt === null ? '-' : `${formatDuration(Date.now() - letter.deadAt)} ago`;
}

function listCommand(): Command {
  return dlqSubcommand('list', 'list dead letters, oldest first (field values cut to 1 KiB: a preview)')
    .addOption(reasonOption('only dead letters with this x-dead-reason'))
    .addOption(new Option('--count <n>', 'at most this many').argParser(integerArg(1)).default(100))
    .addHelpText('after', '\nExample:\n  streamvisor dlq list --stream orders --reason handler-error --json')
    .action(async (options: DlqOptions) => {
      const url = await requireRedisUrl(options.redis);
      const selection: Selection = { limit: options.count ?? 100 };
      if (options.reason !== undefined) selection.reason = options.reason;
      const { letters } = await withRedis(url, async (session) => {
        await requireKnownStream(session, options);
        return selectDeadLetters(session.storage, deadStreamOf(options), selection);
      });
      if (options.json) return printJson(letters);
      if (letters.length === 0) return line(`no dead letters in ${deadStreamOf(options)}`);
      line(
        table(
          ['Id', 'Dead', 'Size', 'Reason', 'Type', 'Deliveries', 'Source id', 'Error'],
          letters.map((l) => [
            l.id,
            ageOf(l),
            formatBytes(l.bytes),
            l.reason ?? '-',
            l.type ?? '-',
            l.deliveries ?? '-',
            l.sourceId ?? '-',
            truncate(l.error ?? '', 60),
          ]),
        ),
      );
    });
}

function showCommand(): Command {
  return dlqSubcommand('show', 'show one dead letter with every field')
    .addOption(new Option('--id <id>', 'the dead-letter id').argParser((v) => streamIdsArg(v, undefined)))
    .addOption(
      new Option('--max-bytes <n>', 'refuse (exit 1) a dead letter bigger than this many bytes')
        .argParser(integerArg(1))
        .default(DEFAULT_MAX_DEAD_LETTER_BYTES),
    )
    .addHelpText('after', '\nExample:\n  streamvisor dlq show --stream orders --id 1700000000000-0')
    .action(async (options: DlqOptions) => {
      const id = options.id?.[0];
      if (id === undefined) throw new UsageError('pass --id ID (see `streamvisor dlq list`)');
      const url = await requireRedisUrl(options.redis);
      const maxBytes = options.maxBytes ?? DEFAULT_MAX_DEAD_LETTER_BYTES;
      const letter = await withRedis(url, async (session) => {
        await requireKnownStream(session, options);
        return loadDeadLetter(session.storage, deadStreamOf(options), id, { maxBytes }).catch((error) => {
          if (!(error instanceof DeadLetterTooLargeError)) throw error;
          throw new Error(
            `${error.message} (${formatBytes(error.bytes)}); \`dlq list --json\` shows its preview, or pass --max-bytes ${error.bytes} to show it whole (add --json > file.json to keep it out of the terminal)`,
          );
        });
      });
      if (letter === undefined) throw new Error(`no dead letter ${id} in ${deadStreamOf(options)}`);
      if (options.json) return printJson(letter);
      // Every value came from a producer: escaped, newlines too, so none can paint a fake line.
      const safe = (value: string | number | null) => escapeControls(String(value ?? '-'));
      line(`id:            ${letter.id}`);
      line(`reason:        ${safe(letter.reason)}`);
      line(`error:         ${safe(letter.error)}`);
      line(
        `dead since:    ${letter.deadAt === null ? '-' : new Date(letter.deadAt).toISOString()} (${ageOf(letter)})`,
      );
      line(`source:        ${safe(letter.sourceStream)} ${escapeControls(letter.sourceId ?? '')}`);
      line(`group:         ${safe(letter.group)}`);
      line(`deliveries:    ${safe(letter.deliveries)}`);
      line(`size:          ${formatBytes(letter.bytes)} (${letter.bytes} bytes)`);
      line('fields:');
      for (const [key, value] of Object.entries(letter.fields))
        line(`  ${escapeControls(key)}: ${pretty(key, value)}`);
    });
}

/** A field's value for `dlq show`: the payload as indented JSON (JSON escapes controls in strings). */
function pretty(key: string, value: string): string {
  if (key !== 'payload') return escapeControls(value);
  try {
    return escapeControls(JSON.stringify(JSON.parse(value), null, 2), true).replace(/\n/g, '\n  ');
  } catch {
    return `${escapeControls(value)}  (not valid JSON)`;
  }
}

function replayCommand(): Command {
  return selectOptions(
    dlqSubcommand(
      'replay',
      'put dead letters back on their source stream and delete them from the dead-letter stream',
    ),
  )
    .option(
      '--yes',
      'confirm a bulk replay (--reason, --all); replay never prompts, so scripts can always pass it',
    )
    .addHelpText(
      'after',
      '\nEach message is re-added with its original fields plus x-replayed-from=<dead-letter id>.\nExamples:\n  streamvisor dlq replay --stream orders --id 1700000000000-0\n  streamvisor dlq replay --stream orders --reason handler-error\n  streamvisor dlq replay --stream orders --all --yes',
    )
    .action(async (options: DlqOptions) => {
      const target = targetOf(options, 'replay');
      const url = await requireRedisUrl(options.redis);
      const dead = deadStreamOf(options);
      const replayed = await withRedis(url, async (session) => {
        await requireKnownStream(session, options);
        const { storage } = session;
        const letters = await resolveDeadLetters(storage, dead, target, { action: 'replay' });
        const progress = startProgress('replaying', letters.length, !options.json);
        try {
          return await replayDeadLetters(storage, dead, letters, options.stream, (done) =>
            progress.update(done),
          );
        } catch (error) {
          // Say what did go back before the error ends the command (exit 1).
          if (error instanceof ReplayError) printReplayed(error.replayed, options, dead);
          throw error;
        } finally {
          progress.stop();
        }
      });
      printReplayed(replayed, options, dead);
    });
}

function printReplayed(replayed: readonly Replayed[], options: DlqOptions, dead: string): void {
  if (options.json) {
    printJson(replayed);
    return;
  }
  for (const r of replayed) line(`${r.deadLetterId} → ${r.stream} ${r.id}`);
  line(`replayed ${replayed.length} dead letter${replayed.length === 1 ? '' : 's'} from ${dead}`);
}

function purgeCommand(): Command {
  return selectOptions(dlqSubcommand('purge', 'delete dead letters for good'))
    .option('--yes', 'confirm the deletion (required)')
    .addHelpText('after', '\nExample:\n  streamvisor dlq purge --stream orders --reason missing-type --yes')
    .action(async (options: DlqOptions) => {
      const target = targetOf(options, 'purge');
      if (options.yes !== true)
        throw new UsageError('purge deletes dead letters for good; add --yes to confirm');
      const url = await requireRedisUrl(options.redis);
      const dead = deadStreamOf(options);
      const ids = await withRedis(url, async (session) => {
        await requireKnownStream(session, options);
        const { storage } = session;
        const letters = await resolveDeadLetters(storage, dead, target, { action: 'purge' });
        const ids = letters.map((letter) => letter.id);
        const progress = startProgress('purging', ids.length, !options.json);
        try {
          await purgeDeadLetters(storage, dead, ids, (done) => progress.update(done));
        } finally {
          progress.stop();
        }
        return ids;
      });
      if (options.json) return printJson(ids);
      line(`purged ${ids.length} dead letter${ids.length === 1 ? '' : 's'} from ${dead}`);
    });
}

/**
 * `streamvisor dlq list|show|replay|purge`: inspect and act on a stream's dead letters.
 *
 * @example
 * program.addCommand(dlqCommand())
 */
export function dlqCommand(): Command {
  return new Command('dlq')
    .description('list, show, replay or purge the dead letters of a stream (<stream>:dead)')
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(replayCommand())
    .addCommand(purgeCommand());
}
