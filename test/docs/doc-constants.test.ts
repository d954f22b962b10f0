import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_READ_AHEAD } from '../../src/actors/consumer/read-size.js';
import { resolveConsumer } from '../../src/actors/consumer-options.js';
import { TURN_BUDGET } from '../../src/actors/dispatch/turn-budget.js';
import { deadLetterFields, MAX_ERROR_LENGTH } from '../../src/wire/dead-letter-fields.js';

// Numbers the docs quote come from the code: each row finds every place a document quotes a constant
// or a default (by the words around it) and compares the number with the code's value. A row that
// finds no quote fails too, so a reworded document cannot silently drop out of the check.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8').replace(/\s+/g, ' ');
const defaults = resolveConsumer({ stream: 's', group: 'g' }, 0);
const seconds = (ms: number) => ms / 1000;

interface Quote {
  what: string;
  files: string[];
  /** Captures the quoted number in group 1 (digits, `_` or `,` allowed). */
  pattern: RegExp;
  value: number;
}

const quotes: Quote[] = [
  {
    what: 'MAX_READ_AHEAD',
    files: ['docs/architecture.md', 'docs/contract.md', 'docs/recipes.md'],
    pattern: /(\d[\d,_]*) (?:messages|entries)?,? ?\(?`MAX_READ_AHEAD`/g,
    value: MAX_READ_AHEAD,
  },
  {
    what: 'TURN_BUDGET',
    files: ['docs/architecture.md', 'docs/performance.md'],
    pattern: /(\d+) (?:more|messages) \(`TURN_BUDGET`\)/g,
    value: TURN_BUDGET,
  },
  {
    what: 'the x-dead-error limit',
    files: ['docs/contract.md'],
    pattern: /`x-dead-error` \(the error message, at most (\d+) characters\)/g,
    value: MAX_ERROR_LENGTH,
  },
  {
    what: 'the default concurrency',
    files: ['docs/contract.md', 'docs/migrating-from-codex-bot.md'],
    pattern: /`concurrency` messages at once \(default (\d+)\)/g,
    value: defaults.concurrency,
  },
  {
    what: 'the default retry.attempts',
    files: ['docs/recipes.md'],
    pattern: /`retry\.attempts` \(default (\d+)/g,
    value: defaults.retry.attempts,
  },
  {
    what: 'the default claim.minIdleMs, s',
    files: ['docs/scaling.md', 'docs/operations.md'],
    pattern: /`claim\.minIdleMs`(?: \+ `claim\.intervalMs`)? \(defaults? (\d+) s/g,
    value: seconds(defaults.claim.minIdleMs),
  },
  {
    what: 'the default claim.intervalMs, s',
    files: ['docs/scaling.md'],
    pattern: /`claim\.intervalMs`, default (\d+) s/g,
    value: seconds(defaults.claim.intervalMs),
  },
];

describe('numbers in the docs come from the code', () => {
  it.each(quotes.map((quote) => [quote.what, quote] as const))('%s', (_what, quote) => {
    const found = quote.files.flatMap((file) =>
      [...read(file).matchAll(quote.pattern)].map((match) => ({
        file,
        value: Number((match[1] ?? '').replace(/[,_]/g, '')),
      })),
    );
    expect(found.length, `a quote of ${quote.what} in ${quote.files.join(', ')}`).toBeGreaterThan(0);
    for (const at of found) expect(at, at.file).toEqual({ file: at.file, value: quote.value });
  });

  it('keeps at most MAX_ERROR_LENGTH characters of an error text', () => {
    const fields = deadLetterFields(
      { id: '1-0', fields: { type: 't' }, deliveries: 1 },
      {
        reason: 'handler-error',
        error: 'x'.repeat(10_000),
        sourceStream: 's',
        group: 'g',
        deliveries: 1,
        at: 0,
      },
    );
    expect(fields['x-dead-error']).toHaveLength(MAX_ERROR_LENGTH);
    expect(fields['x-dead-error']?.endsWith('…')).toBe(true);
  });
});
