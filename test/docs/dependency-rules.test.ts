import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The layer rules of .dependency-cruiser.cjs (docs/architecture.md, "Where the code lives") hold on
// src/, and they can fail: a copy of src/ with a deliberate cycle between two folders, or an upward
// import, fails the check that `npm run check` runs.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const run = promisify(execFile);
const copies: string[] = [];

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [CRUISE, 'src', '--config', '.dependency-cruiser.cjs'], {
      cwd,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, out: failed.stdout };
  }
}

/** A copy of the repository's src/ and configs, changed by `edit`. */
function copyWith(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'sv-deps-'));
  copies.push(dir);
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json'])
    cpSync(join(ROOT, file), join(dir, file));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  edit(dir);
  return dir;
}

describe('dependency rules', { timeout: 120_000 }, () => {
  it('hold on src/', async () => {
    const { code, out } = await cruise(ROOT);
    expect(out).toMatch(/0 errors/);
    expect(code).toBe(0);
  });

  it('fail on a deliberate cycle between two folders (a type import is enough)', async () => {
    const dir = copyWith((at) =>
      appendFileSync(
        join(at, 'src/machines/ids.ts'),
        "\nexport type { ConsumerDeps } from '../actors/consumer-deps.js';\n",
      ),
    );
    const { code, out } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(out).toContain('no-upward-from-machines: src/machines/ids.ts → src/actors/consumer-deps.ts');
  });

  it('fail on a role importing upward inside src/actors', async () => {
    const dir = copyWith((at) =>
      appendFileSync(
        join(at, 'src/actors/dispatch/job-queue.ts'),
        "\nexport type { ConsumerIo } from '../consumer/consumer-io.js';\n",
      ),
    );
    const { code, out } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(out).toContain('no-upward-from-actors-dispatch');
  });
});
