import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamStorage } from '../../src/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Issue 25, item 8: message fields are the producer's, and the CLI's human-readable output must not
// hand their ESC and BEL bytes to the terminal (retitle it, clear it, paint fake text). `--json`
// stays exact. Run as a child process against the shared Redis.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TITLE = '\x1b]0;pwned\x07'; // OSC 0: sets the terminal's title
const CLEAR = '\x1b[2J'; // CSI 2J: clears the screen
const C1 = '\u009b31m'; // C1 CSI: colours on terminals that take 8-bit controls
// Any raw C0 control but newline, DEL or C1 in the output is a failure.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, REDIS_URL: sharedRedisUrl() }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const prefix = uniquePrefix();
const stream = `${prefix}:orders`;
const dead = `${stream}:dead`;
const hostile = {
  type: `order.paid${TITLE}`,
  payload: `not json ${CLEAR}fake: all good${C1}`,
  'x-dead-reason': 'handler-error',
  'x-dead-error': `boom${TITLE}\nreason:        fake line${CLEAR}`,
  'x-source-stream': stream,
  'x-source-id': '1-0',
  [`x-note${CLEAR}`]: `tab\there\x7f`,
};
let storage: RedisStreamStorage;
let deadId = '';

beforeAll(async () => {
  storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  deadId = await storage.add(dead, hostile);
  await storage.add(stream, hostile);
});

afterAll(async () => {
  await storage.close();
  await cleanupKeys(prefix);
});

describe('the CLI escapes control characters from message fields', { timeout: 60_000 }, () => {
  it('dlq list: the table shows \\x1b and \\x07 as text', async () => {
    const result = await cli(['dlq', 'list', '--stream', stream]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout).toContain('order.paid\\x1b]0;pwned\\x07');
    expect(result.stdout).toContain('boom\\x1b]0;pwned\\x07');
  });

  it('dlq show: every field escaped, and no producer newline starts a fake line', async () => {
    const result = await cli(['dlq', 'show', '--stream', stream, '--id', deadId]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout).toContain('\\x1b[2Jfake: all good\\u009b31m  (not valid JSON)');
    expect(result.stdout).toContain(
      'error:         boom\\x1b]0;pwned\\x07\\nreason:        fake line\\x1b[2J',
    );
    expect(result.stdout).toContain('x-note\\x1b[2J: tab\\there\\x7f');
    expect(result.stdout.split('\n').filter((l) => l.startsWith('reason:'))).toEqual([
      'reason:        handler-error',
    ]);
  });

  it('tail: one escaped line per entry', async () => {
    const result = await cli(['tail', '--stream', stream, '--from', '0', '--limit', '1']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain('order.paid\\x1b]0;pwned\\x07  not json \\x1b[2J');
  });

  it('--json stays exact: the bytes come back as they were written', async () => {
    // A dead letter's own x-dead-* fields are lifted out of `fields` into named properties.
    const {
      'x-dead-reason': _,
      'x-dead-error': error,
      'x-source-stream': __,
      'x-source-id': ___,
      ...rest
    } = hostile;
    const list = await cli(['dlq', 'list', '--stream', stream, '--json']);
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ error, fields: rest });
    const show = await cli(['dlq', 'show', '--stream', stream, '--id', deadId, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ error, fields: rest });
    const tail = await cli(['tail', '--stream', stream, '--from', '0', '--limit', '1', '--json']);
    expect(JSON.parse(tail.stdout).fields).toEqual(hostile);
    // DEL and C1 are not escaped by JSON.stringify: they pass through as they were.
    expect(tail.stdout).toContain('\u009b31m');
  });
});
