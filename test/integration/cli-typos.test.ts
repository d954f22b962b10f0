import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamStorage } from '../../src/index.js';
import { DEAD_REASONS } from '../../src/machines/dispatch-worker-machine.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Issue 25, item 12: a typo in a stream name or a dead-letter reason used to exit 0 with empty output
// (a row of zeros, "no dead letters", "purged 0", a silent wait). Run as a child process against the
// shared Redis.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', 'src/cli/main.ts'];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, ...args],
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
const typo = `${prefix}:no_such_stream`;
let storage: RedisStreamStorage;

beforeAll(async () => {
  storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  await storage.add(stream, { type: 'order.paid' });
  await storage.add(dead, { type: 'a', 'x-dead-reason': 'handler-error', 'x-source-stream': stream });
});

afterAll(async () => {
  await storage.close();
  await cleanupKeys(prefix);
});

describe('CLI typos are reported, not answered with empty output', { timeout: 60_000 }, () => {
  it('status --stream with a stream that does not exist exits 1 naming it (not a row of zeros)', async () => {
    const result = await cli(['status', '--stream', stream, typo]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`no stream "${typo}"`);
    expect(result.stderr).not.toContain(`no stream "${stream}"`);
    expect((await cli(['status', '--stream', stream])).code).toBe(0);
  });

  it('dlq list/purge --reason with an unknown reason is a usage error (exit 2) listing the valid ones', async () => {
    const list = await cli(['dlq', 'list', '--stream', stream, '--reason', 'bogus']);
    expect(list.code).toBe(2);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain('bogus');
    for (const reason of DEAD_REASONS) expect(list.stderr).toContain(reason);
    const purge = await cli(['dlq', 'purge', '--stream', stream, '--reason', 'bogus', '--yes']);
    expect(purge.code).toBe(2);
    expect(purge.stdout).toBe('');
    expect(purge.stderr).toContain('handler-error');
    expect(await storage.length(dead)).toBe(1);
    const known = await cli(['dlq', 'list', '--stream', stream, '--reason', 'handler-error', '--json']);
    expect(known.code).toBe(0);
    expect(JSON.parse(known.stdout)).toHaveLength(1);
  });

  it('dlq on a stream that does not exist (nor its dead letters) exits 1 naming both', async () => {
    const result = await cli(['dlq', 'list', '--stream', typo]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no stream "${typo}" and no dead-letter stream "${typo}:dead"`);
    const purge = await cli(['dlq', 'purge', '--stream', typo, '--all', '--yes']);
    expect(purge.code).toBe(1);
    expect(purge.stderr).toContain(`no stream "${typo}"`);
    // A stream without dead letters yet is no typo.
    const clean = `${prefix}:clean`;
    await storage.add(clean, { type: 'x' });
    const none = await cli(['dlq', 'list', '--stream', clean]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(`no dead letters in ${clean}:dead`);
  });

  it('tail --stream with a stream that does not exist yet says so on stderr, then follows it', async () => {
    const later = `${prefix}:later`;
    const child = spawn(process.execPath, [...NODE_ARGS, 'tail', '--stream', later, '--json'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: sharedRedisUrl() },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!stderr.includes('does not exist yet') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stderr).toContain(`stream "${later}" does not exist yet`);
      const id = await storage.add(later, { type: 'user.joined' });
      while (!stdout.includes('\n') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(JSON.parse(stdout)).toEqual({ stream: later, id, fields: { type: 'user.joined' } });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
