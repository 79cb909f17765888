// Benchmark 5: what the extension weighs. The production build and the .vsix are made in a staging
// folder beside the sources, so a bench run never replaces the dist/ that tests running at the same time
// load; the build script and the packager are the project's own, run exactly as `npm run package` does.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BenchResult, bytes, check, repoRoot, Row, runProcess } from './lib';

const LIMIT = 1024 * 1024;

interface Metafile {
  inputs: Record<string, { bytes: number }>;
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

export async function runBundle(): Promise<BenchResult> {
  const root = repoRoot();
  const stage = mkdtempSync(join(tmpdir(), 'aks-bench-bundle-'));
  const notes: string[] = [];
  try {
    for (const linked of ['src', 'node_modules', 'tsconfig.json']) symlinkSync(join(root, linked), join(stage, linked));
    for (const copied of ['package.json', 'package.nls.json', '.vscodeignore', 'LICENSE', 'CHANGELOG.md', 'README.md', 'media']) {
      if (existsSync(join(root, copied))) cpSync(join(root, copied), join(stage, copied), { recursive: true });
    }
    const build = await runProcess(process.execPath, [join(root, 'scripts', 'build.mjs'), '--production'], { cwd: stage });
    check(build.code === 0, `the production build failed: ${build.stderr.trim()}`);
    const bundleBytes = statSync(join(stage, 'dist', 'extension.js')).size;
    const meta = JSON.parse(readFileSync(join(stage, 'dist', 'meta.json'), 'utf8')) as Metafile;
    // What each input contributes to the bundle after tree shaking and minifying, not its size on disk.
    const output = Object.entries(meta.outputs).find(([name]) => name.endsWith('extension.js'))?.[1];
    check(output, 'the metafile names no extension.js output');
    const top = Object.entries(output.inputs)
      .map(([name, input]) => ({ input: relative(root, resolve(stage, name)), bytes: input.bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5);

    const pack = await runProcess(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--out', 'dist/aks-signin.vsix'], { cwd: stage, timeoutMs: 180_000 });
    const vsixPath = join(stage, 'dist', 'aks-signin.vsix');
    const vsixBytes = pack.code === 0 && existsSync(vsixPath) ? statSync(vsixPath).size : undefined;
    if (vsixBytes === undefined) notes.push(`vsce package failed, so the .vsix was not measured: ${(pack.stderr || pack.stdout).trim().split('\n').slice(-3).join(' ')}`);

    const rows: Row[] = [
      { benchmark: 'Bundle', measure: 'dist/extension.js, production', ours: bytes(bundleBytes), goal: '< 1 MB', met: bundleBytes < LIMIT },
      {
        benchmark: 'Bundle',
        measure: '.vsix (vsce package --no-dependencies)',
        ours: vsixBytes === undefined ? 'not measured' : bytes(vsixBytes),
        goal: '< 1 MB',
        met: vsixBytes === undefined ? undefined : vsixBytes < LIMIT,
      },
      {
        benchmark: 'Bundle',
        measure: 'top 5 inputs (bytes in output)',
        ours: top.map((entry) => `${entry.input} ${bytes(entry.bytes)}`).join('; '),
        goal: 'reported',
      },
    ];
    return { rows, data: { bundleBytes, vsixBytes, topInputs: top }, notes };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
