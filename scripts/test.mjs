// The one test command: type-checks and compiles everything, bundles the extension, then runs every
// `*.test.js` under out/test with Node's test runner. `npm test -- unit kubectl` limits the run to those
// folders of test/; `npm test -- faults/secrets.test.ts` runs one file.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suites = process.argv.slice(2);

rmSync('out', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const roots = suites.length > 0 ? suites.map((suite) => join('out/test', suite.replace(/\.ts$/, '.js'))) : ['out/test'];
const files = roots.flatMap((root) => (root.endsWith('.test.js') ? [root] : testFiles(root))).sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}

// A file whose tests are done ends even if a failed test left a timer or socket behind (so a failure
// fails CI instead of hanging it), and no test without its own timeout runs longer than ten minutes.
const run = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-force-exit', '--test-timeout=600000', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
