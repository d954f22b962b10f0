import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every ```ts block of README.md and docs/*.md is type-checked against the source, in one program
// with the repository's compiler options, so the documentation cannot drift from the API.
//
// - Each block becomes a module `.doc-check/<doc>/line-<n>.ts` (git-ignored; removed when the check
//   passes, kept for a look when it fails). Lines map one to one to the document's lines.
// - ```ts file=handlers.ts names the block's file instead, so a later block of the same document can
//   `import { router } from './handlers.js'`.
// - `from 'streamvisor'` and `from 'streamvisor/testing'` are rewritten to the source entries.
// - A block uses what it does not define through `declare const x: T` lines, shown to the reader.
// - A block that is deliberately a fragment is fenced ```ts no-check; keep them few (MAX_NO_CHECK).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, '.doc-check');
const MAX_NO_CHECK = 3;

interface Block {
  /** Path of the document, relative to the repository. */
  doc: string;
  /** 1-based line of the block's first code line in the document. */
  line: number;
  code: string;
  check: boolean;
  /** From `file=NAME` in the info string. */
  file: string | undefined;
}

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The fenced ```ts blocks of a Markdown text (```typescript too), with their info string. */
function extractBlocks(doc: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let open: { fence: string; info: string; line: number; body: string[] } | null = null;
  for (const [index, line] of lines.entries()) {
    if (open === null) {
      const start = /^\s*(`{3,}|~{3,})\s*([^`]*)$/.exec(line);
      if (start)
        open = { fence: start[1] as string, info: (start[2] ?? '').trim(), line: index + 2, body: [] };
      continue;
    }
    const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line)?.[1];
    if (close !== undefined && close[0] === open.fence[0] && close.length >= open.fence.length) {
      const [language, ...flags] = open.info.split(/\s+/);
      if (language === 'ts' || language === 'typescript') {
        const file = flags.find((flag) => flag.startsWith('file='))?.slice('file='.length);
        if (file !== undefined && !/^[\w.-]+\.ts$/.test(file)) {
          throw new Error(`${doc}:${open.line - 1}: expected file=NAME.ts, got file=${file}`);
        }
        blocks.push({
          doc,
          line: open.line,
          code: open.body.join('\n'),
          check: !flags.includes('no-check'),
          file,
        });
      }
      open = null;
      continue;
    }
    open.body.push(line);
  }
  if (open !== null) throw new Error(`${doc}:${open.line - 1}: unclosed code fence`);
  return blocks;
}

/** The block as a module in `dir`, importing the source instead of the package. */
function toModule(code: string, dir: string): string {
  const entry = (path: string) => relative(dir, join(ROOT, path)).split(sep).join('/');
  const source = code
    .replace(
      /(from\s+|import\s*\(\s*)(['"])streamvisor\/testing\2/g,
      `$1$2${entry('src/testing/index.js')}$2`,
    )
    .replace(/(from\s+|import\s*\(\s*)(['"])streamvisor\2/g, `$1$2${entry('src/index.js')}$2`);
  // `export {}` on the last line: every block is a module of its own (no clashes between blocks),
  // and line numbers stay those of the document.
  return `${source}\nexport {};\n`;
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false };
}

describe('code blocks of README.md and docs/*.md', () => {
  const blocks = documents().flatMap((doc) => extractBlocks(doc, readFileSync(join(ROOT, doc), 'utf8')));

  it('finds the blocks, and few are marked no-check', () => {
    expect(blocks.filter((block) => block.check).length).toBeGreaterThan(10);
    const skipped = blocks.filter((block) => !block.check).map((block) => `${block.doc}:${block.line}`);
    expect(skipped.length, `no-check blocks: ${skipped.join(', ')}`).toBeLessThanOrEqual(MAX_NO_CHECK);
  });

  it('type-checks every ts block against the source', { timeout: 30_000 }, () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const files = new Map<string, Block>();
    for (const block of blocks.filter((b) => b.check)) {
      const dir = join(OUT, block.doc.replace(/\.md$/, '').replace(/[^\w-]+/g, '-'));
      const file = join(dir, block.file ?? `line-${block.line}.ts`);
      if (files.has(file))
        throw new Error(`${block.doc}:${block.line - 1}: a second block names ${block.file}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, toModule(block.code, dir));
      files.set(file, block);
    }
    const program = ts.createProgram([...files.keys()], compilerOptions());
    const errors: string[] = [];
    const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    for (const file of files.keys()) {
      const source = program.getSourceFile(file);
      if (source === undefined) throw new Error(`${file} is not in the program`);
      diagnostics.push(...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source));
    }
    for (const diagnostic of diagnostics) {
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
      const block = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
      if (diagnostic.file === undefined || diagnostic.start === undefined || block === undefined) {
        errors.push(
          `${diagnostic.file ? relative(ROOT, diagnostic.file.fileName) : 'tsc'}: TS${diagnostic.code} ${text}`,
        );
        continue;
      }
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      errors.push(`${block.doc}:${block.line + line}:${character + 1}: TS${diagnostic.code} ${text}`);
    }
    expect(errors, `\n${errors.join('\n')}\n(the generated files are in .doc-check/)\n`).toEqual([]);
    rmSync(OUT, { recursive: true, force: true });
  });
});
