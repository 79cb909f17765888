// Benchmark 2: what our credential forms cost on every kubectl call. `kubectl get ns` against the API
// server double, with the form our engine wrote beside a hand-written static-token kubeconfig, on the
// same kubectl, the runs of the variants interleaved.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCredentials } from '../src/core/kubeconfig';
import { sha256Hex } from '../test/support/apiserver';
import { kubectlBinaries, runKubectl, startEgressTrap, type KubectlVersion } from '../test/support/kubectl';
import { azNames, azSkeleton } from '../test/support/kubeconfig-fixtures';
import { newIdentity, startKubectlFixture, type KubectlFixture } from '../test/kubectl/fixture';
import { BenchResult, check, envInt, interleaved, median, ms, Row } from './lib';

interface Variant {
  name: string;
  version: KubectlVersion;
  binary: string;
  kubeconfig: string;
  token: string;
  ours: boolean;
}

function staticTokenKubeconfig(fixture: KubectlFixture, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: plain',
    '  cluster:',
    `    server: ${fixture.server.url}`,
    `    certificate-authority-data: ${fixture.caData}`,
    'contexts:',
    '- name: plain',
    '  context:',
    '    cluster: plain',
    '    user: plain',
    'current-context: plain',
    'users:',
    '- name: plain',
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}

export async function runKubectlAuth(): Promise<BenchResult> {
  const reps = envInt('BENCH_KUBECTL_REPS', 15);
  const binaries = new Map(kubectlBinaries().map((binary) => [binary.version, binary.path]));
  const fixture = await startKubectlFixture();
  const egress = await startEgressTrap();
  const notes: string[] = [];
  try {
    const variants: Variant[] = [];
    const add = async (version: KubectlVersion, form: 'token' | 'legacy'): Promise<void> => {
      const binary = binaries.get(version);
      if (!binary) {
        notes.push(`kubectl ${version} not found: its ${form} row was not measured (scripts/fetch-kubectl.sh fetches 1.20).`);
        return;
      }
      const ourFile = join(fixture.dir, `ours-${version}-${form}.yaml`);
      writeFileSync(ourFile, azSkeleton({ server: fixture.server.url, caData: fixture.caData, format: form === 'token' ? 'exec-kubelogin' : 'auth-provider' }), { mode: 0o600 });
      const ourToken = fixture.mintToken(newIdentity(`ours-${version}`));
      await writeCredentials(ourFile, azNames(0).user, {
        format: form,
        accessToken: ourToken,
        refreshToken: 'bench-refresh-token-not-real',
        expiresOn: new Date(Date.now() + 3_599_000),
        expiresInSeconds: 3599,
      });
      const plainFile = join(fixture.dir, `plain-${version}.yaml`);
      const plainToken = fixture.mintToken(newIdentity(`plain-${version}`));
      writeFileSync(plainFile, staticTokenKubeconfig(fixture, plainToken), { mode: 0o600 });
      variants.push({ name: `ours-${form}`, version, binary, kubeconfig: ourFile, token: ourToken, ours: true });
      variants.push({ name: 'static-token', version, binary, kubeconfig: plainFile, token: plainToken, ours: false });
    };
    await add('1.33', 'token');
    await add('1.20', 'legacy');

    const times = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
    const pairedRatios = new Map<KubectlVersion, number[]>();
    const timed = async (variant: Variant): Promise<number> => {
      const before = fixture.server.requests.length;
      const result = await runKubectl(variant.binary, ['get', 'namespaces', '-o', 'name'], { kubeconfig: variant.kubeconfig, env: egress.env });
      check(result.code === 0, `kubectl ${variant.version} with ${variant.name} failed: ${result.stderr.trim()}`);
      check(result.stdout.includes('namespace/kube-system'), `kubectl ${variant.version} with ${variant.name} listed no namespaces`);
      const seen = fixture.server.requests.slice(before);
      check(
        seen.some((request) => request.path === '/api/v1/namespaces' && request.status === 200 && request.tokenSha256 === sha256Hex(variant.token)),
        `kubectl ${variant.version} with ${variant.name} did not send the token the kubeconfig holds`,
      );
      return result.durationMs;
    };
    const versions = [...new Set(variants.map((variant) => variant.version))];
    // One unmeasured round first warms the page cache for every binary alike. Each version's two variants
    // run back to back, first one then the other first, so a burst of load elsewhere on the machine hits
    // both halves of a pair; the ratio is the median of those paired ratios.
    for (let rep = -1; rep < reps; rep++) {
      for (const version of interleaved(versions, Math.max(rep, 0))) {
        const pair = variants.filter((variant) => variant.version === version);
        const measured = new Map<Variant, number>();
        for (const variant of interleaved(pair, Math.max(rep, 0))) measured.set(variant, await timed(variant));
        if (rep < 0) continue;
        for (const [variant, durationMs] of measured) times.get(variant)!.push(durationMs);
        const [ours, plain] = [pair.find((variant) => variant.ours)!, pair.find((variant) => !variant.ours)!];
        pairedRatios.set(version, [...(pairedRatios.get(version) ?? []), measured.get(ours)! / measured.get(plain)!]);
      }
    }
    check(egress.attempts.length === 0, `kubectl tried to reach ${egress.attempts.join(', ')}`);

    const rows: Row[] = [];
    for (const version of ['1.33', '1.20'] as const) {
      const ours = variants.find((variant) => variant.version === version && variant.ours);
      const plain = variants.find((variant) => variant.version === version && !variant.ours);
      if (!ours || !plain) {
        rows.push({ benchmark: `kubectl ${version} get ns`, measure: 'per-call time', ours: 'not measured', goal: 'ratio ≤ 1.1' });
        continue;
      }
      const oursTimes = times.get(ours)!;
      const plainTimes = times.get(plain)!;
      const ratio = median(pairedRatios.get(version)!);
      rows.push({
        benchmark: `kubectl ${version} get ns, ${ours.name === 'ours-token' ? 'our token form' : 'our legacy form'}`,
        measure: `per-call time, median (fastest: ${ms(Math.min(...oursTimes))} vs ${ms(Math.min(...plainTimes))})`,
        ours: ms(median(oursTimes)),
        peer: `static token: ${ms(median(plainTimes))}`,
        ratio,
        goal: 'ratio ≤ 1.1',
        met: ratio <= 1.1,
      });
    }
    const data = Object.fromEntries(variants.map((variant) => [`${variant.version}/${variant.name}`, times.get(variant)]));
    return { rows, data: { repetitions: reps, durationsMs: data, pairedRatios: Object.fromEntries(pairedRatios) }, notes };
  } finally {
    await egress.close();
    await fixture.close();
  }
}
