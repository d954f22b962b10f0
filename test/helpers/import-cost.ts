// What importing a module costs, measured in a fresh process: run as
//   node --expose-gc --import tsx test/helpers/import-cost.ts <module path> [export to call]
// It prints one JSON line: the RSS the import added (MB, after a full GC on both sides), how long the
// import took (ms), and the npm packages loaded through CommonJS after the import (and after calling
// the named export, when given). This file is itself loaded through tsx, so the baseline already
// holds tsx's loader and one compiled module: the delta is the imported module's own.
import { createRequire } from 'node:module';

const [target, call] = process.argv.slice(2);
const gc = globalThis.gc;
if (!target || !gc) throw new Error('usage: node --expose-gc --import tsx import-cost.ts <module> [export]');

const settledRss = () => {
  gc();
  return process.memoryUsage().rss;
};
const packages = () => {
  const names = Object.keys(createRequire(import.meta.url).cache).map(
    (path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? null,
  );
  return [...new Set(names.filter((name) => name !== null))].sort();
};

const before = settledRss();
const started = performance.now();
const loaded = (await import(target)) as Record<string, unknown>;
const importMs = performance.now() - started;
const rssMb = (settledRss() - before) / 2 ** 20;
const afterImport = packages();
if (call) await (loaded[call] as () => Promise<unknown>)();
process.stdout.write(
  `${JSON.stringify({ rssMb, importMs, packages: afterImport, packagesAfterCall: packages() })}\n`,
);
