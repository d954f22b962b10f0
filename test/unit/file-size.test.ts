import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The house rule from the dispatch-core restructuring: no source file over 300 lines, so a file
// stays one role that can be read in one sitting.
const LIMIT = 300;
const root = new URL('../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('source files', () => {
  it(`are at most ${LIMIT} lines each`, () => {
    const files = sources(root);
    expect(files.length).toBeGreaterThan(100);
    const over = files
      .map((path) => ({
        file: path.slice(root.length),
        lines: readFileSync(path, 'utf8').split('\n').length - 1,
      }))
      .filter(({ lines }) => lines > LIMIT);
    expect(over).toEqual([]);
  });
});
