// Every kubectl we support must get through discovery and printing against the API server double
// cleanly; otherwise a failing credential test could be blaming the credentials for the server's fault.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256Hex } from '../support/apiserver';
import { KUBECTL_VERSIONS, kubectlOrSkip, runKubectl } from '../support/kubectl';
import { KubectlFixture, newIdentity, startKubectlFixture } from './fixture';

describe('kubectl against the API server double', () => {
  let fixture: KubectlFixture;
  before(async () => {
    fixture = await startKubectlFixture();
  });
  after(() => fixture.close());

  function tokenKubeconfig(name: string, token: string): string {
    const file = join(fixture.dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: double',
        '  cluster:',
        `    server: ${fixture.server.url}`,
        `    certificate-authority-data: ${fixture.caData}`,
        'contexts:',
        '- name: double',
        '  context: {cluster: double, user: someone}',
        'current-context: double',
        'users:',
        '- name: someone',
        '  user:',
        `    token: ${token}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return file;
  }

  for (const version of KUBECTL_VERSIONS) {
    it(`kubectl ${version} prints client and server versions`, async (t) => {
      const binary = kubectlOrSkip(t, version);
      if (!binary) return;
      const kubeconfig = tokenKubeconfig(`version-${version}`, fixture.mintToken(newIdentity('viewer')));
      const result = await runKubectl(binary, ['version'], { kubeconfig });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`v${version.replace('.', '\\.')}\\.\\d+`));
      assert.match(result.stdout, /v1\.30\.\d+/);
      // Skew warnings are expected (the double reports 1.30 to every client); errors are not.
      assert.doesNotMatch(result.stderr, /error|unable|fail/i);
    });

    it(`kubectl ${version} lists namespaces as a table`, async (t) => {
      const binary = kubectlOrSkip(t, version);
      if (!binary) return;
      const who = newIdentity(`lister-${version}`);
      const token = fixture.mintToken(who);
      const kubeconfig = tokenKubeconfig(`get-ns-${version}`, token);
      const result = await runKubectl(binary, ['get', 'namespaces'], { kubeconfig });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const lines = result.stdout.trim().split('\n');
      assert.match(lines[0] ?? '', /^NAME\s+STATUS\s+AGE$/);
      assert.deepEqual(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 2)), [
        ['default', 'Active'],
        ['kube-system', 'Active'],
        ['aks-signin-test', 'Active'],
      ]);
      const seen = fixture.server.requests.filter((request) => request.tokenSha256 === sha256Hex(token));
      assert.ok(seen.some((request) => request.path === '/api/v1/namespaces' && request.status === 200 && request.subject === who.upn));
      assert.ok(seen.every((request) => request.status === 200), JSON.stringify(seen));
    });
  }
});
