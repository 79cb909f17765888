// Benchmark 5: what the extension weighs. The production build and the .vsix are made in a staging
// folder beside the sources, so a bench run never replaces the dist/ that tests running at the same time
// load; the build script and the packager are the project's own, run exactly as `npm run package` does.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BenchResult, bytes, check, repoRoot, Row, runProcess } from './lib';

const LIMIT = 1024 * 1024;

/** The vsce arguments of `npm run package`, so the .vsix measured is the one that script makes. */
function vsceArguments(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const step = (manifest.scripts?.['package'] ?? '')
    .split('&&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('vsce '));
  return step ? step.split(/\s+/).slice(1) : ['package', '--no-dependencies', '--out', 'dist/aks-signin.vsix'];
}

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
    const meta = JSON.parse(readFileSync(join(stage, 'dist', 'meta.json'), 'utf8')) as Metafile;
    // Every script the build emits ships; the activation file is only one of them when the build splits.
    const scripts = Object.keys(meta.outputs)
      .filter((name) => name.endsWith('.js'))
      .map((name) => ({ name: relative(stage, resolve(stage, name)), bytes: statSync(resolve(stage, name)).size }))
      .sort((a, b) => a.name.localeCompare(b.name));
    check(scripts.some((script) => script.name === join('dist', 'extension.js')), 'the build made no dist/extension.js');
    const totalBytes = scripts.reduce((sum, script) => sum + script.bytes, 0);
    // What each input contributes to the bundles after tree shaking and minifying, not its size on disk.
    const contributed = new Map<string, number>();
    for (const [name, output] of Object.entries(meta.outputs)) {
      if (!name.endsWith('.js')) continue;
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const key = relative(root, resolve(stage, input));
        contributed.set(key, (contributed.get(key) ?? 0) + bytesInOutput);
      }
    }
    const top = [...contributed]
      .map(([input, count]) => ({ input, bytes: count }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5);

    const vsceArgs = vsceArguments(root);
    const pack = await runProcess(join(root, 'node_modules', '.bin', 'vsce'), vsceArgs, { cwd: stage, timeoutMs: 180_000 });
    const out = vsceArgs.indexOf('--out');
    const vsixPath = join(stage, (out >= 0 ? vsceArgs[out + 1] : undefined) ?? 'aks-signin-0.1.0.vsix');
    const vsixBytes = pack.code === 0 && existsSync(vsixPath) ? statSync(vsixPath).size : undefined;
    if (vsixBytes === undefined) notes.push(`vsce package failed, so the .vsix was not measured: ${(pack.stderr || pack.stdout).trim().split('\n').slice(-3).join(' ')}`);

    const rows: Row[] = [
      ...scripts.map((script) => ({ benchmark: 'Bundle', measure: `${script.name}, production`, ours: bytes(script.bytes), goal: '< 1 MB', met: script.bytes < LIMIT })),
      ...(scripts.length > 1 ? [{ benchmark: 'Bundle', measure: 'all scripts together', ours: bytes(totalBytes), goal: '< 1 MB', met: totalBytes < LIMIT }] : []),
      {
        benchmark: 'Bundle',
        measure: `.vsix (${['vsce', ...vsceArgs.filter((arg) => arg !== '--out' && !arg.endsWith('.vsix'))].join(' ')})`,
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
    return { rows, data: { scripts, totalBytes, vsixBytes, topInputs: top }, notes };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
