import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run check:unused` (knip, knip.json) can fail: in a copy of the repository, a file nothing
// imports and an export nothing uses (not even a test) are both reported, and knip exits non-zero.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KNIP = join(ROOT, 'node_modules/knip/bin/knip.js');
const run = promisify(execFile);
const copies: string[] = [];

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of what knip reads (sources, entry files, configs), changed by `edit`. */
function copyWith(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'sv-knip-'));
  copies.push(dir);
  for (const folder of ['src', 'test', 'bench', 'scripts', 'examples', 'bin'])
    cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
  for (const file of [
    'package.json',
    'tsconfig.json',
    'knip.json',
    'vitest.config.ts',
    'vitest.mutation.config.ts',
    'vitest.mutation-machines.config.ts',
    'stryker.config.mjs',
    'stryker.dispatch.config.mjs',
  ])
    cpSync(join(ROOT, file), join(dir, file));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  edit(dir);
  return dir;
}

async function knip(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [KNIP, '--no-progress'], { cwd });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, out: failed.stdout };
  }
}

describe('unused code (knip)', { timeout: 120_000 }, () => {
  it('fails on a file nothing imports and on an export nothing uses', async () => {
    const dir = copyWith((at) => {
      writeFileSync(join(at, 'src/orphan-probe.ts'), 'export const orphanProbe = 1;\n');
      appendFileSync(join(at, 'src/clock.ts'), '\nexport const unusedProbe = 2;\n');
    });
    const { code, out } = await knip(dir);
    expect(code).not.toBe(0);
    expect(out).toMatch(/Unused files[\s\S]*src\/orphan-probe\.ts/);
    expect(out).toMatch(/Unused exports[\s\S]*unusedProbe\s+src\/clock\.ts/);
  });
});
