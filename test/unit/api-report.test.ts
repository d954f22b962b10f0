import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run api:check` is `api-extractor run` with the committed configs: it must fail when the public
// API differs from the report in etc/. This builds the declarations once into a temp folder and runs
// the same CLI with the same configs, the reports copied to that folder: the committed reports pass,
// and one altered by a single type fails with API Extractor's "changed the API signature".

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API_EXTRACTOR = join(ROOT, 'node_modules/@microsoft/api-extractor/bin/api-extractor');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface Entry {
  config: string;
  declarations: string;
}
const ENTRIES: Record<string, Entry> = {
  streamvisor: { config: 'api-extractor.json', declarations: 'index.d.ts' },
  'streamvisor/testing': { config: 'api-extractor.testing.json', declarations: 'testing/index.d.ts' },
};

let work = '';

function reportNameOf(config: string): string {
  const name: unknown = JSON.parse(readFileSync(join(ROOT, config), 'utf8')).apiReport?.reportFileName;
  if (typeof name !== 'string') throw new Error(`${config} names no apiReport.reportFileName`);
  return name;
}

/** The report `config` writes in `etc` (API Extractor adds its own suffix to the name). */
function reportFileOf(config: string, etc: string): string {
  const prefix = `${reportNameOf(config)}.`;
  const file = readdirSync(etc).find((name) => name.startsWith(prefix));
  if (file === undefined) throw new Error(`no report ${prefix}* in ${etc}`);
  return join(etc, file);
}

/** `api-extractor run` (not --local, as api:check) with `entry`'s config, against reports in `etc`. */
function runApiExtractor(entry: Entry, etc: string): { status: number | null; output: string } {
  const config = join(work, entry.config);
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, entry.config),
      projectFolder: ROOT,
      mainEntryPointFilePath: join(work, 'dist', entry.declarations),
      apiReport: {
        enabled: true,
        reportFileName: reportNameOf(entry.config),
        reportFolder: etc,
        reportTempFolder: join(work, 'temp'),
      },
    }),
  );
  const run = spawnSync(process.execPath, [API_EXTRACTOR, 'run', '-c', config], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('API report (npm run api:check)', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'streamvisor-api-'));
    // API Extractor names the package after the package.json above the entry's declarations.
    cpSync(join(ROOT, 'package.json'), join(work, 'package.json'));
    // Declarations only (what API Extractor reads), from the same tsconfig as `npm run build`.
    const outDir = join(work, 'dist');
    const flags = ['--emitDeclarationOnly', '--declarationMap', 'false', '--sourceMap', 'false'];
    const args = [TSC, '-p', 'tsconfig.build.json', '--outDir', outDir, ...flags];
    const build = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
  }, 60_000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  for (const [name, entry] of Object.entries(ENTRIES)) {
    it(`passes with the committed report of ${name}`, () => {
      const etc = join(work, `etc-${entry.config}`);
      cpSync(join(ROOT, 'etc'), etc, { recursive: true });
      const run = runApiExtractor(entry, etc);
      expect(run.output).toContain('API Extractor completed successfully');
      expect(run.status).toBe(0);
    }, 30_000);
  }

  it('fails when the report differs from the public API', () => {
    const entry = ENTRIES.streamvisor as Entry;
    const etc = join(work, 'etc-altered');
    cpSync(join(ROOT, 'etc'), etc, { recursive: true });
    const report = reportFileOf(entry.config, etc);
    const original = readFileSync(report, 'utf8');
    // One deliberate change: an option of StreamStorage.add typed as a string.
    const altered = original.replace(/^( {4}maxLen\?: )number;$/m, '$1string;');
    expect(altered).not.toBe(original);
    writeFileSync(report, altered);

    const run = runApiExtractor(entry, etc);
    expect(run.output).toContain('You have changed the API signature');
    expect(run.status).not.toBe(0);
  }, 30_000);
});
