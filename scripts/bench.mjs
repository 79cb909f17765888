// `npm run bench`: compiles the project into its own folder (so a bench run never disturbs out/, which
// the test command deletes and rebuilds) and runs every benchmark. Knobs: see bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as esbuild from 'esbuild';

const outDir = 'bench/.out';
rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--outDir', outDir], { stdio: 'inherit' });
// The one-write process is bundled and minified the way the extension ships, so it loads one file, not
// the compiler's output of every module it imports.
await esbuild.build({
  entryPoints: ['bench/write-once.ts'],
  bundle: true,
  outfile: `${outDir}/write-once.bundle.js`,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--enable-source-maps', `${outDir}/bench/run.js`], { stdio: 'inherit' });
process.exit(run.status ?? 1);
