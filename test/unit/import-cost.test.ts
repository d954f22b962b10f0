import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

interface ImportCost {
  rssMb: number;
  importMs: number;
  packages: string[];
  packagesAfterCall: string[];
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Import `module` (a path from the repository root) in a fresh `node --import tsx` and measure it
 * (test/helpers/import-cost.ts). V8's young generation is pinned at 1 MB: left to itself it grows
 * with the allocation rate of whatever ran last (any running app has it at its cap soon), which
 * makes the RSS of one import swing by ±5 MB from run to run; pinned, the delta is what the module
 * keeps (its code, its heap, its native memory).
 */
async function importCost(module: string, call?: string): Promise<ImportCost> {
  const args = [
    '--expose-gc',
    '--max-semi-space-size=1',
    '--min-semi-space-size=1',
    '--import',
    'tsx',
    'test/helpers/import-cost.ts',
    `${root}${module}`,
    ...(call ? [call] : []),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: root });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ImportCost;
}

describe('the cost of importing streamvisor', () => {
  it('adds at most 25 MB RSS and loads neither elkjs nor ioredis (a dashboard or fromUrl loads them)', async () => {
    const cost = await importCost('src/index.ts');
    expect(cost.packages).toContain('pino');
    expect(cost.packages).not.toContain('elkjs');
    expect(cost.packages).not.toContain('ioredis');
    expect(cost.rssMb).toBeLessThanOrEqual(25);
  }, 60_000);

  it('loads elkjs when the dashboard lays out its statecharts, not when it is imported', async () => {
    const cost = await importCost('src/dashboard/statechart.ts', 'buildStatecharts');
    expect(cost.packages).not.toContain('elkjs');
    expect(cost.packagesAfterCall).toContain('elkjs');
  }, 60_000);
});
