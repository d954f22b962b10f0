// Regenerates the state diagrams in docs/architecture.md from the machine definitions.
// `npx tsx scripts/machine-docs.ts` writes them; `--check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMachineDocs } from './render-machine-docs.js';

const file = new URL('../docs/architecture.md', import.meta.url);
const current = readFileSync(file, 'utf8');
const next = renderMachineDocs(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('docs/architecture.md is out of date: run npx tsx scripts/machine-docs.ts');
    process.exit(1);
  }
} else {
  writeFileSync(file, next);
}
