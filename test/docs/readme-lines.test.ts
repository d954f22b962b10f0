import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// README.md is read in a terminal as often as on a web page: no line of a Markdown table in it may be
// longer than a terminal can show (a status table once had 562-character lines). Length is counted
// in characters (code points), as a terminal shows them.

const LIMIT = 120;
const README = new URL('../../README.md', import.meta.url);

/** Table lines (outside code blocks) longer than `limit`, as `line N: length`. */
function longTableLines(markdown: string, limit = LIMIT): string[] {
  const long: string[] = [];
  let fenced = false;
  for (const [index, line] of markdown.split('\n').entries()) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced || !/^\s*\|/.test(line)) continue;
    const length = [...line].length;
    if (length > limit) long.push(`line ${index + 1}: ${length} characters`);
  }
  return long;
}

describe('README.md', () => {
  const text = readFileSync(README, 'utf8');

  it(`has no table line over ${LIMIT} characters`, () => {
    expect(text).toMatch(/^\| /m); // it has tables to check
    expect(longTableLines(text)).toEqual([]);
  });

  it('the check finds a long table line, and only table lines outside code', () => {
    const wide = `| ${'x'.repeat(LIMIT)} | done |`;
    const sample = ['| a | b |', '| - | - |', wide, '', '```', wide, '```', 'x'.repeat(LIMIT + 1)].join('\n');
    expect(longTableLines(sample)).toEqual([`line 3: ${LIMIT + 11} characters`]);
    expect(longTableLines(`| ${'é'.repeat(LIMIT - 4)} |`)).toEqual([]); // characters, not bytes
  });
});
