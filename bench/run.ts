// Runs every benchmark, prints one Markdown table with each goal beside its figure, and writes
// bench/results/latest.{json,md}. BENCH_ONLY=write,kubectl,signin,browser,refresh,bundle,arm,azcli picks some of them.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { runActivation } from './activation';
import { runArmDiscovery } from './arm-discovery';
import { runAzureCliRefresh } from './azure-cli-refresh';
import { runBrowserSignIn } from './browser-sign-in';
import { runBundle } from './bundle';
import { runKubeconfigWrite } from './kubeconfig-write';
import { runKubectlAuth } from './kubectl-auth';
import { BenchFailure, BenchResult, repoRoot, Row } from './lib';
import { runRefreshDay } from './refresh-day';
import { runSignIn } from './sign-in';

const BENCHMARKS: Array<{ key: string; title: string; run: () => Promise<BenchResult> }> = [
  { key: 'write', title: 'Kubeconfig write', run: () => runKubeconfigWrite(writeOnceScript()) },
  { key: 'kubectl', title: 'Per-kubectl-call auth cost', run: runKubectlAuth },
  { key: 'signin', title: 'Sign-in overhead', run: runSignIn },
  { key: 'browser', title: 'Browser sign-in overhead', run: runBrowserSignIn },
  { key: 'refresh', title: 'Refresh at scale', run: runRefreshDay },
  { key: 'bundle', title: 'Bundle size', run: runBundle },
  { key: 'activation', title: 'Activation in a real host', run: runActivation },
  { key: 'arm', title: 'Azure discovery', run: () => runArmDiscovery() },
  { key: 'azcli', title: 'Azure CLI refresh', run: runAzureCliRefresh },
];

/** The bundled one-write script scripts/bench.mjs makes, else the compiled module beside this one. */
function writeOnceScript(): string {
  const bundled = join(__dirname, '..', 'write-once.bundle.js');
  return existsSync(bundled) ? bundled : join(__dirname, 'write-once.js');
}


const cell = (text: string) => text.replace(/\|/g, '\\|');

function table(rows: Row[]): string {
  const lines = ['| Benchmark | Measure | Ours | Peer (same run) | Ratio | Goal | Met |', '|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    const met = row.met === undefined ? '–' : row.met ? 'yes' : '**no**';
    const ratio = row.ratio === undefined || !Number.isFinite(row.ratio) ? '' : `${row.ratio.toFixed(2)}×`;
    lines.push(`| ${[row.benchmark, row.measure, row.ours, row.peer ?? '', ratio, row.goal, met].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  const resultsDir = join(repoRoot(), 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const loadAtStart = loadavg()[0] ?? 0;
  const rows: Row[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  let broken = false;
  for (const benchmark of BENCHMARKS) {
    if (only.length > 0 && !only.includes(benchmark.key)) continue;
    const started = Date.now();
    process.stderr.write(`bench: ${benchmark.title}…\n`);
    try {
      const result = await benchmark.run();
      rows.push(...result.rows);
      notes.push(...(result.notes ?? []));
      data[benchmark.key] = { ...result.data, elapsedMs: Date.now() - started };
    } catch (error) {
      broken = true;
      const message = error instanceof Error ? error.message : String(error);
      rows.push({ benchmark: benchmark.title, measure: error instanceof BenchFailure ? 'WRONG RESULT' : 'FAILED', ours: message, goal: '', met: false });
      data[benchmark.key] = { error: message };
    }
    process.stderr.write(`bench: ${benchmark.title} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Linux ${release()}, Node ${process.versions.node}`;
  // Other work on the machine moves every absolute figure; the load says how much to trust them.
  const load = `load average ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`;
  const markdown = [
    `# Benchmark results`,
    '',
    `${new Date().toISOString()} on ${machine}; ${load}. Times are medians; ratios are ours ÷ peer, measured in the same run (for kubectl calls, the median of back-to-back paired ratios).`,
    '',
    table(rows),
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify({ at: new Date().toISOString(), machine, load, rows, notes, data }, null, 2) + '\n');
  process.stdout.write(markdown);
  if (broken) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
