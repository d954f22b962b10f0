import { Command, Option } from 'commander';
import { namesArg } from './arguments.js';
import { formatDuration, line, printJson, table } from './output.js';
import { redisOption, requireRedisUrl, withRedis } from './redis.js';
import type { StreamStatus } from './status-report.js';
import { requireStreams } from './stream-check.js';

interface StatusOptions {
  redis?: string;
  stream?: string[];
  match: string;
  json?: boolean;
}

function render(report: StreamStatus[]): void {
  const groupRows: (string | number)[][] = [];
  const consumerRows: (string | number)[][] = [];
  for (const s of report) {
    if (s.groups.length === 0)
      groupRows.push([s.stream, s.length, s.deadLetters, '-', '-', '-', '-', '-', '-']);
    for (const g of s.groups) {
      groupRows.push([
        s.stream,
        s.length,
        s.deadLetters,
        g.name,
        g.consumers.length,
        g.pending,
        g.lag ?? '?',
        g.oldestPendingAgeMs === null
          ? '-'
          : `${formatDuration(g.oldestPendingAgeMs)} (idle ${formatDuration(g.oldestPendingIdleMs)})`,
        g.owner ?? '-',
      ]);
      for (const c of g.consumers)
        consumerRows.push([s.stream, g.name, c.name, c.pending, formatDuration(c.idleMs)]);
    }
  }
  line(
    table(
      [
        'Stream',
        'Entries',
        'Dead letters',
        'Group',
        'Consumers',
        'Pending',
        'Lag',
        'Oldest pending',
        'Owner',
      ],
      groupRows,
    ),
  );
  if (consumerRows.length > 0) line(table(['Stream', 'Group', 'Consumer', 'Pending', 'Idle'], consumerRows));
}

/**
 * `streamvisor status`: streams, groups, consumers, pending, lag and dead letters at a glance.
 *
 * @example
 * program.addCommand(statusCommand())
 */
export function statusCommand(): Command {
  return new Command('status')
    .description('show streams, consumer groups, consumers, pending entries, lag and dead-letter counts')
    .addOption(redisOption())
    .addOption(
      new Option(
        '--stream <name...>',
        'only these streams (default: every stream, found with SCAN)',
      ).argParser(namesArg),
    )
    .option('--match <pattern>', 'with no --stream: only stream keys matching this glob', '*')
    .option('--json', 'print a JSON array, one object per stream')
    .addHelpText(
      'after',
      '\nExamples:\n  streamvisor status --redis redis://127.0.0.1:6379\n  REDIS_URL=redis://cache:6379 streamvisor status --stream orders --json',
    )
    .action(async (options: StatusOptions) => {
      const url = await requireRedisUrl(options.redis);
      const { findStreams, streamStatus } = await import('./status-report.js');
      const report = await withRedis(url, async ({ client, storage, where }) => {
        if (options.stream !== undefined) await requireStreams(client, options.stream, where);
        const streams = options.stream ?? (await findStreams(client, options.match));
        return streamStatus(storage, streams);
      });
      if (options.json) return printJson(report);
      if (report.length === 0) return line('no streams found');
      render(report);
    });
}
