import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const INDEX = new URL('../../src/index.ts', import.meta.url);

/**
 * Which of `names` src/index.ts does not export yet (the runtime is written alongside this bench).
 * Returns a single explanation when src/index.ts is missing or does not load.
 */
export async function missingStreamvisorExports(names: readonly string[]): Promise<string[]> {
  if (!existsSync(fileURLToPath(INDEX))) return ['src/index.ts'];
  let module: Record<string, unknown>;
  try {
    const specifier = '../../src/index.js'; // a variable: src/index.ts may not exist while this compiles
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const first = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    return [`src/index.ts does not load (${first})`];
  }
  return names.filter((name) => typeof module[name] !== 'function');
}
