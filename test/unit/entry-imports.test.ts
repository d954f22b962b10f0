import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// vitest is an optional peer dependency, needed only by describeStreamStorageContract: neither
// package entry may import it statically, or `streamvisor` (and createTestRuntime under another test
// runner) would fail to load where vitest is not installed.

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
// Static imports and re-exports that stay at run time (not `import type` / `export type`).
const STATIC = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

/** Every package (bare specifier) statically imported by the module graph of `entry`. */
function packagesReached(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [resolve(SRC, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(STATIC)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) pending.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  }
  return packages;
}

describe('package entries', () => {
  it('streamvisor does not import vitest', () => {
    const reached = packagesReached('index.ts');
    expect(reached).toContain('xstate'); // the walk does follow the graph
    expect([...reached].filter((name) => name.startsWith('vitest'))).toEqual([]);
  });

  it('streamvisor/testing does not import vitest statically (the contract suite loads it lazily)', () => {
    const reached = packagesReached('testing/index.ts');
    expect(reached).toContain('xstate');
    expect([...reached].filter((name) => name.startsWith('vitest'))).toEqual([]);
  });
});
