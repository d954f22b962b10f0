import { Command, Option } from 'commander';
import { headerArg } from './arguments.js';
import { line, printJson } from './output.js';
import { redisOption, requireRedisUrl, withRedis } from './redis.js';
import { UsageError } from './usage-error.js';

interface PublishOptions {
  redis?: string;
  stream: string;
  type: string;
  payload?: string;
  header?: Record<string, string>;
  json?: boolean;
}

/**
 * The fields of a message in the wire format (`type`, `payload` as JSON, headers), or a `UsageError`
 * when the payload is not JSON.
 *
 * @example
 * messageFields({ type: 'order.paid', payload: '{"orderId":1}', header: { 'x-tenant': 'acme' } })
 */
function messageFields(options: Pick<PublishOptions, 'type' | 'payload' | 'header'>): Record<string, string> {
  if (options.type === '') throw new UsageError('--type must not be empty, e.g. --type order.paid');
  const fields: Record<string, string> = { type: options.type };
  if (options.payload !== undefined) {
    try {
      JSON.parse(options.payload);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(`--payload must be JSON (${why}); quote it, e.g. --payload '{"orderId":42}'`);
    }
    fields.payload = options.payload;
  }
  return { ...fields, ...(options.header ?? {}) };
}

/**
 * `streamvisor publish`: add one message to a stream and print its id.
 *
 * @example
 * program.addCommand(publishCommand())
 */
export function publishCommand(): Command {
  return new Command('publish')
    .description('add one message (type, JSON payload, headers) to a stream and print its id')
    .addOption(redisOption())
    .requiredOption('--stream <name>', 'the stream to add to')
    .requiredOption('--type <type>', 'the message type, e.g. order.paid')
    .option('--payload <json>', 'the payload, as JSON')
    .addOption(new Option('--header <key=value...>', 'a header field (repeatable)').argParser(headerArg))
    .option('--json', 'print {"stream","id"} as JSON')
    .addHelpText(
      'after',
      `\nExample:\n  streamvisor publish --stream orders --type order.paid --payload '{"orderId":42}' --header x-tenant=acme`,
    )
    .action(async (options: PublishOptions) => {
      const fields = messageFields(options);
      const url = await requireRedisUrl(options.redis);
      const id = await withRedis(url, (session) => session.storage.add(options.stream, fields));
      if (options.json) printJson({ stream: options.stream, id });
      else line(id);
    });
}
