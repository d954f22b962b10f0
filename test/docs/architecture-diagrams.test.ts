import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMachineDocs } from '../../scripts/render-machine-docs.js';

describe('docs/architecture.md', () => {
  it('shows the diagrams of the current machine definitions', () => {
    const text = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    expect(text.match(/```mermaid/g)).toHaveLength(3);
    expect(renderMachineDocs(text)).toBe(text);
  });

  it('shows the transitions without a target: the supervisor restart and the read loop', () => {
    const text = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const lines = text.split('\n');
    expect(lines).toContain('  running --> running: restart (targetless)');
    expect(lines).toContain('  polling --> polling: io.read.done (targetless)');
  });
});
