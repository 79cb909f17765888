// `npm start`: builds the extension, bundles the sandbox launcher (test/support/sandbox-main.ts) and runs
// it in this process, so Ctrl+C reaches one process that knows what to stop. esbuild instead of tsc keeps
// the start to a second; `npm test` type-checks the same sources. Needs `npm run setup` once.
// package.json starts it with `exec`: Debian's sh re-raises a Ctrl+C that its child survived, which would
// turn a clean stop into exit status 130.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

const launcher = join(root, '.vscode-test', 'out-sandbox', 'sandbox-main.js');
await esbuild.build({
  entryPoints: ['test/support/sandbox-main.ts'],
  bundle: true,
  outfile: launcher,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Packages load from node_modules as they are; only the repository's own TypeScript is bundled.
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

process.setSourceMapsEnabled(true);
await createRequire(import.meta.url)(launcher).main();
