import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Issue 25, item 15: the soak with a client whose XACKs silently do nothing (`--sabotage noop-xack`)
// did not fail within 300 s: it hung. A soak must end, with its verdict, within its own bound. Both
// runs here are the real soak (npm run soak) in a child process: its own redis-server, two worker
// processes, the sabotage preloaded into them.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function soak(args: string[], killAfterMs: number): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/soak.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // Our own bound, past the soak's: a soak that hangs fails this test instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

describe('the soak ends with its verdict within its bound', () => {
  it('a short run with no-op XACKs fails with its verdict (pending at the end), in well under a minute', {
    timeout: 90_000,
  }, async () => {
    const run = await soak(
      ['--minutes', '0.05', '--settle-seconds', '3', '--faults', 'bad-input', '--sabotage', 'noop-xack'],
      75_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/soak FAILED: .*still pending at the end/);
    expect(run.stdout).toContain('"sabotage": "noop-xack"');
    expect(run.seconds).toBeLessThan(60);
  });

  it('a run past its --deadline-seconds stops there and fails, saying where it was', {
    timeout: 60_000,
  }, async () => {
    const run = await soak(
      ['--minutes', '1', '--deadline-seconds', '12', '--faults', 'bad-input', '--sabotage', 'noop-xack'],
      45_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/soak FAILED: did not end within its bound of 12 s \(stuck in [^)]+\)/);
    expect(run.seconds).toBeLessThan(30);
  });
});
