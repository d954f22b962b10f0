import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/architecture.md, "One message, from read to ack", names a file and its functions for every
// step of a message's life. Each file must exist and define each function it is named with: a
// `Class.method` (or `Class.#private`) is a method of that class in the file, a bare name a function,
// class or const. A renamed or moved function fails here until the walk is written again.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

function section(): string {
  const start = doc.indexOf('## One message, from read to ack');
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end);
}

interface Step {
  file: string;
  names: string[];
}

/** Each numbered step: `file` — `name`, `name`: prose. */
function steps(): Step[] {
  const items = section()
    .split(/\n(?=\d+\. )/)
    .slice(1);
  return items.map((item) => {
    const head = item.replace(/\s+/g, ' ');
    const match = /^\d+\. `([^`]+)` — (.+?):/.exec(head);
    if (match === null) throw new Error(`Step without "\`file\` — \`name\`:": ${head.slice(0, 80)}`);
    const names = [...(match[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    return { file: match[1] ?? '', names };
  });
}

function defines(source: string, name: string): boolean {
  const [owner, member] = name.includes('.') ? name.split('.') : [undefined, name];
  const escaped = (member ?? '').replace(/[$#]/g, '\\$&');
  const definition = new RegExp(
    `(^|\\n)\\s*(export\\s+)?((async\\s+)?function\\s+${escaped}\\b|(const|class)\\s+${escaped}\\b|(readonly\\s+|async\\s+|get\\s+)*${escaped}\\s*(\\(|=|<))`,
  );
  if (owner === undefined) return definition.test(source);
  const start = source.search(new RegExp(`class\\s+${owner}\\b`));
  if (start < 0) return false;
  return definition.test(source.slice(start));
}

describe('docs/architecture.md walks one message', () => {
  const walk = steps();

  it('from the read to the ack, the dead letter and the next message', () => {
    expect(walk.length).toBeGreaterThanOrEqual(10);
    const files = walk.map((step) => step.file);
    expect(files[0]).toBe('src/actors/consumer/consumer-io.ts');
    expect(files).toContain('src/actors/consumer/ack-batcher.ts');
    expect(files).toContain('src/actors/retry/failure-path.ts');
  });

  it.each(steps().flatMap((step) => step.names.map((name) => [step.file, name] as const)))(
    '%s defines %s',
    (file, name) => {
      const path = join(ROOT, file);
      expect(existsSync(path), `${file} exists`).toBe(true);
      expect(defines(readFileSync(path, 'utf8'), name), `${name} in ${file}`).toBe(true);
    },
  );

  it('the check fails on a name that is not there', () => {
    const source = readFileSync(join(ROOT, 'src/actors/dispatch/worker-pool.ts'), 'utf8');
    expect(defines(source, 'WorkerPool.dispatch')).toBe(true);
    expect(defines(source, 'WorkerPool.takeNextJob')).toBe(false);
    expect(defines(source, 'ConsumerIo.read')).toBe(false);
  });
});
