// Benchmark 1: setting one user's token in az-style kubeconfigs of growing size, our engine against
// `kubectl config set-credentials` on a copy of the same file; and what verifying the patched text
// before it replaces the file costs, both ways (the local proof and the full parse), beside kubectl in
// the same run.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkCredentialWrite, writeCredentials } from '../src/core/kubeconfig';
import { KubeconfigText } from '../src/core/kubeconfig/entries';
import { planCredentials } from '../src/core/kubeconfig/patch';
import { applyEdits } from '../src/core/kubeconfig/text';
import { verifyUserPlan, type Verification } from '../src/core/kubeconfig/verify';
import { createSigningKey, signJwt } from '../test/support/jwt';
import { azNames, azSkeleton } from '../test/support/kubeconfig-fixtures';
import { BenchResult, bytes, check, envInt, interleaved, median, mib, ms, nowMs, Row, runProcess } from './lib';

export const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const SIZES = [10, 500, 5000];
const COMMENT = '# Staging clusters below are shared with the platform team; ask before removing one.';

type Variant = 'process' | 'inProcess' | 'kubectl';

interface SizeFigures {
  contexts: number;
  fileBytes: number;
  wallMs: Record<Variant, number[]>;
  /** Verifying one patched text in-process: the local proof, the full parse, and what the write chose. */
  verifyMs: { local: number[]; full: number[] };
  preflightMs: number[];
  chosen?: Verification;
  maxRssKb: Record<'process' | 'kubectl', number[]>;
  commentKept: { ours: boolean; kubectl: boolean };
}

function withComment(text: string): string {
  return text.replace(/^apiVersion: v1\n/, `apiVersion: v1\n${COMMENT}\n`);
}

function tokenOfUser(text: string, user: string): unknown {
  const config = parse(text) as { users?: Array<{ name: string; user?: { token?: unknown } }> };
  return config.users?.find((entry) => entry.name === user)?.user?.token;
}

export async function runKubeconfigWrite(writeOnceScript: string): Promise<BenchResult> {
  const reps = envInt('BENCH_WRITE_REPS', 5);
  const dir = mkdtempSync(join(tmpdir(), 'aks-bench-write-'));
  const home = join(dir, 'home');
  const token = signJwt({ aud: 'bench', upn: 'bench@contoso.example', exp: Math.floor(Date.now() / 1000) + 3600, padding: 'x'.repeat(900) }, createSigningKey());
  const figures: SizeFigures[] = [];
  // A Node process that does nothing, in the same run: the floor under any one-shot Node tool.
  const nodeStartMs: number[] = [];
  try {
    // The in-process engine's first call pays for compiling the code; a user's refresh never does.
    const warm = join(dir, 'warm.yaml');
    writeFileSync(warm, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin' }), { mode: 0o600 });
    for (let i = 0; i < 3; i++) {
      writeFileSync(warm, azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts: 10 }), { mode: 0o600 });
      await writeCredentials(warm, azNames(0).user, { format: 'token', accessToken: token, expiresOn: new Date(Date.now() + 3_600_000), expiresInSeconds: 3600 });
    }

    for (const contexts of SIZES) {
      const base = join(dir, `base-${contexts}.yaml`);
      const text = withComment(azSkeleton({ server: 'https://127.0.0.1:6443', format: 'exec-kubelogin', contexts }));
      writeFileSync(base, text, { mode: 0o600 });
      // The user in the middle of the file: neither the first nor the last entry is a kind case.
      const user = azNames(Math.floor(contexts / 2)).user;
      const size: SizeFigures = {
        contexts,
        fileBytes: Buffer.byteLength(text),
        wallMs: { process: [], inProcess: [], kubectl: [] },
        verifyMs: { local: [], full: [] },
        preflightMs: [],
        maxRssKb: { process: [], kubectl: [] },
        commentKept: { ours: false, kubectl: false },
      };
      const copy = join(dir, `copy-${contexts}.yaml`);
      for (let rep = 0; rep < reps; rep++) {
        if (contexts === SIZES[0]) nodeStartMs.push((await runProcess(process.execPath, ['-e', ''])).wallMs);
        for (const variant of interleaved<Variant>(['process', 'inProcess', 'kubectl'], rep)) {
          copyFileSync(base, copy);
          if (variant === 'inProcess') {
            const started = nowMs();
            const report = await writeCredentials(copy, user, { format: 'token', accessToken: token, expiresOn: new Date(Date.now() + 3_599_000), expiresInSeconds: 3599 });
            size.wallMs.inProcess.push(nowMs() - started);
            size.chosen = report.verification;
          } else {
            const run =
              variant === 'process'
                ? await runProcess(process.execPath, [writeOnceScript, copy, user], { env: { ...process.env, BENCH_TOKEN: token } })
                : await runProcess(KUBECTL_133, ['config', 'set-credentials', user, `--token=${token}`], { env: { HOME: home, KUBECONFIG: copy, PATH: '/usr/bin:/bin' } });
            check(run.code === 0, `${variant} write of ${contexts} contexts failed: ${run.stderr.trim()}`);
            size.wallMs[variant].push(run.wallMs);
            if (run.maxRssKb !== undefined) size.maxRssKb[variant].push(run.maxRssKb);
          }
          // Correctness once per variant and size: the token landed on the right user.
          if (rep === 0) {
            const written = readFileSync(copy, 'utf8');
            check(tokenOfUser(written, user) === token, `${variant} write of ${contexts} contexts did not set ${user}'s token`);
            const kept = written.includes(`\n${COMMENT}\n`);
            if (variant === 'kubectl') size.commentKept.kubectl = kept;
            else {
              check(kept, `our ${variant} write of ${contexts} contexts dropped a comment`);
              size.commentKept.ours = true;
            }
          }
        }
      }
      // The verification alone, on the patch the write makes: no file system, the text already read.
      const credentials = { format: 'token' as const, accessToken: token, expiresOn: new Date(Date.now() + 3_599_000), expiresInSeconds: 3599 };
      for (let rep = 0; rep < reps; rep++) {
        for (const mode of ['local', 'full'] as const) {
          // A full parse of 5,000 contexts takes seconds; two runs say enough.
          if (mode === 'full' && contexts >= 5000 && rep >= 2) continue;
          const model = new KubeconfigText(text, base);
          const plan = planCredentials(model, user, credentials);
          const patched = applyEdits(text, plan.edits);
          // Timed from a fresh text: the local proof includes the whole-file scan it stands on.
          const fresh = new KubeconfigText(text, base);
          const started = nowMs();
          if (mode === 'local') fresh.scan();
          verifyUserPlan(fresh, plan, patched, { mode });
          size.verifyMs[mode].push(nowMs() - started);
        }
        copyFileSync(base, copy);
        const started = nowMs();
        await checkCredentialWrite(copy, user, 'token');
        size.preflightMs.push(nowMs() - started);
      }
      figures.push(size);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: Row[] = [];
  const nodeStart = median(nodeStartMs);
  for (const size of figures) {
    const label = `Kubeconfig write, ${size.contexts.toLocaleString('en')} contexts (${bytes(size.fileBytes)})`;
    const kubectl = median(size.wallMs.kubectl);
    for (const variant of ['process', 'inProcess'] as const) {
      const ours = median(size.wallMs[variant]);
      rows.push({
        benchmark: label,
        measure:
          variant === 'process'
            ? `time, whole process (node, ${writeOnceScript.endsWith('bundle.js') ? 'bundled' : 'unbundled'}; an empty node: ${ms(nodeStart)})`
            : 'time, in-process (extension host)',
        ours: ms(ours),
        peer: `kubectl 1.33: ${ms(kubectl)}`,
        ratio: ours / kubectl,
        goal: variant === 'inProcess' && size.contexts >= 500 ? '≤ 0.1× kubectl' : 'faster than kubectl',
        met: variant === 'inProcess' && size.contexts >= 500 ? ours <= 0.1 * kubectl : ours < kubectl,
      });
    }
    const chosen = size.chosen === undefined ? '' : size.chosen.local && size.chosen.full ? 'local proof and full parse' : size.chosen.local ? 'local proof' : 'full parse';
    for (const mode of ['local', 'full'] as const) {
      const verify = median(size.verifyMs[mode]);
      rows.push({
        benchmark: label,
        measure: mode === 'local' ? `verification, local proof (whole-file scan, the entry parsed alone)${chosen.includes('local') ? '; the write used it' : ''}` : `verification, full parse and compare${chosen.includes('full') ? '; the write used it' : ''}`,
        ours: ms(verify),
        peer: `kubectl 1.33: ${ms(kubectl)}`,
        ratio: verify / kubectl,
        goal: 'reported',
      });
    }
    rows.push({ benchmark: label, measure: 'pre-flight check before a sign-in shows a code', ours: ms(median(size.preflightMs)), peer: `kubectl 1.33: ${ms(kubectl)}`, ratio: median(size.preflightMs) / kubectl, goal: 'reported' });
    const oursRss = median(size.maxRssKb.process);
    const kubectlRss = median(size.maxRssKb.kubectl);
    rows.push({ benchmark: label, measure: 'peak memory, whole process', ours: mib(oursRss), peer: `kubectl 1.33: ${mib(kubectlRss)}`, ratio: oursRss / kubectlRss, goal: 'reported' });
  }
  const oursKeeps = figures.every((size) => size.commentKept.ours);
  const kubectlKeeps = figures.some((size) => size.commentKept.kubectl);
  rows.push({
    benchmark: 'Kubeconfig write, all sizes',
    measure: 'a comment line survives',
    ours: oursKeeps ? 'kept' : 'dropped',
    peer: `kubectl 1.33: ${kubectlKeeps ? 'kept' : 'dropped'}`,
    goal: 'ours keeps comments',
    met: oursKeeps,
  });
  return { rows, data: { repetitions: reps, nodeStartMs, sizes: figures } };
}
