import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No file in the repository may refer to a document that is not in it: the contract lives in docs/.
// - Every relative Markdown link `[text](path#anchor)` in a `.md` file resolves to a file, and its
//   anchor (if any) to a heading of the target document.
// - Every `name.md` mentioned anywhere (code comments, tests, scripts, docs) resolves relative to the
//   file that mentions it, or to the repository root.
// - No file cites the design document that lived outside the repository (by its upper-case name).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  'dist',
  '.doc-check',
  'coverage',
  'test-artifacts',
  '.scratch',
  '.notes',
  // npm run mutation's output and sandboxes (gitignored).
  'reports',
  '.stryker-tmp',
  '.stryker-tmp-dispatch',
  // api-extractor's scratch copies of the API reports (gitignored).
  'temp',
]);
const TEXT = /\.(md|ts|mts|cts|js|mjs|cjs|json|ya?ml|sh|html|css|svg)$/;
// This file is skipped: its self-check below breaks every rule on purpose.
const SKIP_FILES = new Set(['package-lock.json', 'doc-references.test.ts']);
// Built from parts so that this file does not cite it itself.
const OUTSIDE_DOC = new RegExp(`\\b${['DES', 'IGN'].join('')}\\b`);

function repositoryFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...repositoryFiles(path));
    else if ((TEXT.test(name) || dir.endsWith(`${sep}.ci`)) && !SKIP_FILES.has(name)) files.push(path);
  }
  return files;
}

function rel(path: string): string {
  return relative(ROOT, path).split(sep).join('/');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) anchors.add(slug(heading[1] as string));
  }
  return anchors;
}

/** Relative link targets of a Markdown text, outside code: inline links and reference definitions. */
function linkTargets(markdown: string): { line: number; target: string }[] {
  const targets: { line: number; target: string }[] = [];
  let fenced = false;
  for (const [index, line] of markdown.split('\n').entries()) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const text = line.replace(/`[^`]*`/g, '');
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      targets.push({ line: index + 1, target: match[1] as string });
    }
    const definition = /^\s*\[[^\]]+\]:\s*(\S+)/.exec(text);
    if (definition) targets.push({ line: index + 1, target: definition[1] as string });
  }
  return targets.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Problems with the links and `.md` mentions of the file at `path` (or of `text` standing in for it). */
function problemsOf(path: string, text = readFileSync(path, 'utf8')): string[] {
  const problems: string[] = [];
  const here = dirname(path);
  if (path.endsWith('.md')) {
    for (const { line, target } of linkTargets(text)) {
      const [file = '', anchor] = target.split('#');
      const resolved = file === '' ? path : join(here, decodeURIComponent(file));
      if (!existsSync(resolved)) {
        problems.push(`${rel(path)}:${line}: link to ${target}: no such file`);
      } else if (anchor !== undefined && resolved.endsWith('.md')) {
        if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
          problems.push(`${rel(path)}:${line}: link to ${target}: no heading #${anchor} in ${rel(resolved)}`);
        }
      }
    }
  }
  for (const [index, line] of text.split('\n').entries()) {
    const withoutUrls = line.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '');
    for (const match of withoutUrls.matchAll(/(?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w-][\w.-]*\.md\b/g)) {
      const mention = match[0];
      if (!existsSync(join(here, mention)) && !existsSync(join(ROOT, mention))) {
        problems.push(`${rel(path)}:${index + 1}: mentions ${mention}, which is not in the repository`);
      }
    }
    if (OUTSIDE_DOC.test(line)) {
      problems.push(
        `${rel(path)}:${index + 1}: cites a design document outside the repository; cite docs/contract.md`,
      );
    }
  }
  return problems;
}

describe('references between documents', () => {
  const files = repositoryFiles();

  it('finds the documents and the sources to check', () => {
    const names = files.map(rel);
    expect(names).toContain('README.md');
    expect(names).toContain('docs/contract.md');
    expect(names).toContain('src/index.ts');
  });

  it('every relative link and every `.md` mention resolves to a file in the repository', () => {
    expect(files.flatMap((file) => problemsOf(file))).toEqual([]);
  });

  it('catches a dangling link, a missing anchor, a mention of a missing document and the old citation', () => {
    // The checks themselves, on a file that breaks each rule once.
    const broken = join(ROOT, 'docs', 'contract.md');
    const original = readFileSync(broken, 'utf8');
    const lines = [
      '[a](nowhere.md)',
      '[b](errors.md#no-such-heading)',
      'see shared/notes.md',
      `see the ${['DES', 'IGN'].join('')} wire format`,
      '[c](https://example.com/x.md) and [d](#public-api) are fine',
    ];
    const problems = problemsOf(broken, `${original}\n${lines.join('\n')}\n`);
    expect(problems).toHaveLength(5); // nowhere.md is both a dangling link and a dangling mention
    expect(problems.join('\n')).toMatch(/nowhere\.md: no such file/);
    expect(problems.join('\n')).toMatch(/no heading #no-such-heading/);
    expect(problems.join('\n')).toMatch(/mentions shared\/notes\.md/);
    expect(problems.join('\n')).toMatch(/cites a design document/);
  });
});
