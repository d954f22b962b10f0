import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';

// Every `streamvisor …` command in the ```sh blocks of README.md and docs/*.md names a command that
// exists, passes only options that command has (each with its value), and every required option:
// the commands in the guides cannot drift from the CLI. (docs/cli.md's synopses are not sh blocks.)

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface CommandLine {
  where: string;
  args: string[];
}

/** Shell words of one line, quotes removed; stops at an unquoted `#`, `|`, `&&` or `;`. */
function words(line: string): string[] {
  const out: string[] = [];
  const pattern = /\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(#.*$|\|\|?|&&|;)|([^\s'"]+))/gy;
  let current: string | null = null;
  let last = 0;
  for (let match = pattern.exec(line); match !== null; match = pattern.exec(line)) {
    const glued = match.index === last && current !== null && !/^\s/.test(match[0]);
    last = pattern.lastIndex;
    if (match[3] !== undefined) break;
    const text = match[1] ?? match[2] ?? match[4] ?? '';
    if (glued) current = `${current}${text}`;
    else {
      if (current !== null) out.push(current);
      current = text;
    }
  }
  if (current !== null) out.push(current);
  return out;
}

function commandLines(): CommandLine[] {
  const docs = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  const found: CommandLine[] = [];
  for (const doc of docs) {
    const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
    let inShell = false;
    for (const [index, line] of lines.entries()) {
      if (/^\s*```/.test(line)) {
        inShell = !inShell && /^\s*```(sh|bash|shell|console)\b/.test(line);
        continue;
      }
      if (!inShell) continue;
      const all = words(line.replace(/^\$\s+/, ''));
      // `streamvisor …` or `npx streamvisor …`, not `npm install streamvisor`.
      const at = all.findIndex((word, n) => word === 'streamvisor' && (n === 0 || all[n - 1] === 'npx'));
      if (at >= 0 && all[at + 1] !== undefined)
        found.push({ where: `${doc}:${index + 1}`, args: all.slice(at + 1) });
    }
  }
  return found;
}

/** Problems with one command line, checked against the program's definition. */
function problems(program: Command, args: string[]): string[] {
  let command = program;
  let i = 0;
  while (i < args.length && !(args[i] as string).startsWith('-')) {
    const sub = command.commands.find((c) => c.name() === args[i]);
    if (sub === undefined) {
      return command.commands.length > 0
        ? [`no command "${args[i]}" under "${command.name()}"`]
        : [`unexpected argument "${args[i]}"`];
    }
    command = sub;
    i++;
  }
  if (command.commands.length > 0) return [`"${command.name()}" needs a subcommand`];
  const found: string[] = [];
  const given = new Set<string>();
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      found.push(`unexpected argument "${arg}"`);
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    if (flag === '--help') return [];
    const option = command.options.find((o) => o.long === flag);
    if (option === undefined) {
      found.push(`"${command.name()}" has no option ${flag}`);
      if (inline === undefined && args[i + 1] !== undefined && !(args[i + 1] as string).startsWith('--')) i++;
      continue;
    }
    given.add(option.attributeName());
    if ((option.required || option.optional) && inline === undefined) {
      const value = args[i + 1];
      if (option.required && (value === undefined || value.startsWith('--'))) {
        found.push(`${flag} needs a value`);
      } else if (value !== undefined && !value.startsWith('--')) {
        i++;
        // Variadic options (`--id <id...>`) take the words that follow too.
        while (option.variadic && args[i + 1] !== undefined && !(args[i + 1] as string).startsWith('--')) i++;
      }
    }
  }
  for (const option of command.options) {
    if (option.mandatory && !given.has(option.attributeName()) && option.envVar === undefined) {
      found.push(`"${command.name()}" needs ${option.long}`);
    }
  }
  return found;
}

/** The `streamvisor` program itself, every command included. */
function program(): Command {
  return createProgram();
}

describe('streamvisor commands in the docs', () => {
  it('splits shell words like a shell', () => {
    expect(words(`npx streamvisor publish --payload '{"a": 1}' --header x=y  # a comment`)).toEqual([
      'npx',
      'streamvisor',
      'publish',
      '--payload',
      '{"a": 1}',
      '--header',
      'x=y',
    ]);
    expect(words('a --x="b c"d | tail')).toEqual(['a', '--x=b cd']);
  });

  it('finds the commands of the guides', () => {
    const lines = commandLines();
    expect(lines.filter((l) => l.where.startsWith('docs/getting-started.md')).length).toBeGreaterThanOrEqual(
      6,
    );
  });

  it('uses only commands and options the CLI has, with every required option', () => {
    const cli = program();
    const wrong = commandLines().flatMap(({ where, args }) =>
      problems(cli, args).map((problem) => `${where}: streamvisor ${args.join(' ')}: ${problem}`),
    );
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('notices a wrong command', () => {
    const cli = program();
    expect(problems(cli, ['dlq', 'list', '--stream', 's', '--limit', '3'])).toEqual([
      '"list" has no option --limit',
    ]);
    expect(problems(cli, ['dlq', 'replay', '--id', '1-0'])).toEqual(['"replay" needs --stream']);
    expect(problems(cli, ['dlq', 'replay', '--stream', 's', '--id', '1-0', '2-0'])).toEqual([]);
    expect(problems(cli, ['queue', 'list'])).toEqual(['no command "queue" under "streamvisor"']);
  });
});
