import type { StandardSchemaV1 } from '@standard-schema/spec';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import type { Message } from '../wire/message.js';
import type { Route } from './handler.js';

/** Issues listed in the error at most; the rest are counted. Dead-letter headers stay small. */
const MAX_LISTED_ISSUES = 10;

/**
 * Checks `message.payload` against the route's Standard Schema (sync or async) and resolves the
 * message the handler should get: with the schema's output as payload (coerced, defaults filled),
 * or `message` itself when the route has no schema.
 *
 * @throws NonRetryableError listing the issues as `path: message` (at most 10), so the runtime
 *   dead-letters the message at once with reason `non-retryable`. A schema that itself throws
 *   rejects with that error instead.
 * @example
 * for (const route of router.match(message)) {
 *   await route.handler(await validatePayload(route, message), ctx)
 * }
 */
export async function validatePayload<C>(route: Route<C>, message: Message): Promise<Message> {
  const schema = route.schema;
  if (schema === undefined) return message;
  let result = schema['~standard'].validate(message.payload);
  if (result instanceof Promise) result = await result;
  if (result.issues !== undefined) {
    throw new NonRetryableError(
      `Payload of "${message.type}" (entry ${message.id}) does not match the schema of route "${route.name}": ${formatIssues(result.issues)}`,
    );
  }
  return { ...message, payload: result.value };
}

function formatIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  if (issues.length === 0) return 'rejected without issues';
  const listed: string[] = [];
  for (const issue of issues.slice(0, MAX_LISTED_ISSUES))
    listed.push(`${formatPath(issue.path)}: ${issue.message}`);
  const more = issues.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more` : listed.join('; ');
}

function formatPath(path: StandardSchemaV1.Issue['path']): string {
  if (path === undefined || path.length === 0) return '(root)';
  let text = '';
  for (const segment of path) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'symbol') text += `[${key.toString()}]`;
    else text += text === '' ? key : `.${key}`;
  }
  return text;
}
