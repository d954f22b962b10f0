// Copies what tsc does not emit (the dashboard page: HTML, JS, CSS) from src/ to dist/.
import { cpSync, existsSync } from 'node:fs';

const ASSET_DIRS = ['dashboard/page'];

for (const dir of ASSET_DIRS) {
  const from = new URL(`../src/${dir}/`, import.meta.url);
  if (!existsSync(from)) throw new Error(`Missing asset directory src/${dir}`);
  cpSync(from, new URL(`../dist/${dir}/`, import.meta.url), { recursive: true });
}
