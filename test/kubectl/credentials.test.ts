// Real kubectl reading kubeconfigs our engine wrote into az-style skeletons: the proof that each
// credential format works with the kubectl versions it is meant for, and fails the way we expect with
// the ones it is not.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it, TestContext } from 'node:test';
import { clearCredentials, writeCredentials } from '../../src/core/kubeconfig';
import { sha256Hex } from '../support/apiserver';
import { EgressTrap, KubectlResult, KubectlVersion, kubectlOrSkip, runKubectl, startEgressTrap } from '../support/kubectl';
import { azNames, azSkeleton } from '../support/kubeconfig-fixtures';
import { Identity, KubectlFixture, newIdentity, startKubectlFixture } from './fixture';

const USER = azNames(0).user;
const LOGIN_HOST = 'login.microsoftonline.com:443';

describe('kubectl reading credentials our engine wrote', () => {
  let fixture: KubectlFixture;
  let egress: EgressTrap;
  let fileCount = 0;

  before(async () => {
    fixture = await startKubectlFixture();
    egress = await startEgressTrap();
  });
  after(async () => {
    await egress.close();
    await fixture.close();
  });
  beforeEach(() => {
    egress.attempts.length = 0;
  });

  function skeletonFile(format: 'exec-kubelogin' | 'auth-provider', transform: (text: string) => string = (text) => text): { file: string; skeleton: string } {
    const skeleton = transform(azSkeleton({ server: fixture.server.url, caData: fixture.caData, format }));
    const file = join(fixture.dir, `kubeconfig-${++fileCount}.yaml`);
    writeFileSync(file, skeleton, { mode: 0o600 });
    return { file, skeleton };
  }

  interface SignedIn {
    file: string;
    skeleton: string;
    token: string;
    who: Identity;
  }

  async function signedIn(
    skeletonFormat: 'exec-kubelogin' | 'auth-provider',
    format: 'legacy' | 'token',
    options: { expiresInSeconds?: number; transform?: (text: string) => string } = {},
  ): Promise<SignedIn> {
    const { file, skeleton } = skeletonFile(skeletonFormat, options.transform);
    const who = newIdentity(`user${fileCount}`);
    const expiresInSeconds = options.expiresInSeconds ?? 3599;
    const token = fixture.mintToken(who, { expiresInSeconds });
    await writeCredentials(file, USER, {
      format,
      accessToken: token,
      refreshToken: `refresh-${fileCount}-not-a-real-one`,
      expiresOn: new Date(Date.now() + expiresInSeconds * 1000),
      expiresInSeconds: Math.max(expiresInSeconds, 1),
    });
    return { file, skeleton, token, who };
  }

  async function getNamespaces(t: TestContext, version: KubectlVersion, file: string): Promise<KubectlResult | undefined> {
    const binary = kubectlOrSkip(t, version);
    if (!binary) return undefined;
    return runKubectl(binary, ['get', 'namespaces', '-o', 'name'], { kubeconfig: file, env: egress.env });
  }

  function assertServedWith(result: KubectlResult, signed: SignedIn): void {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'namespace/default\nnamespace/kube-system\nnamespace/aks-signin-test\n');
    const ours = fixture.server.requests.filter((request) => request.tokenSha256 === sha256Hex(signed.token));
    assert.ok(
      ours.some((request) => request.path === '/api/v1/namespaces' && request.status === 200 && request.subject === signed.who.upn),
      'the API server did not see our token on the namespace list',
    );
    assert.deepEqual(egress.attempts, [], 'kubectl went looking for a token elsewhere');
    assert.doesNotMatch(result.stderr, /devicelogin|login\.microsoftonline\.com|kubelogin/);
  }

  for (const skeletonFormat of ['auth-provider', 'exec-kubelogin'] as const) {
    it(`kubectl 1.20 uses the legacy form written over the ${skeletonFormat} skeleton without signing in itself`, async (t) => {
      const signed = await signedIn(skeletonFormat, 'legacy');
      const result = await getNamespaces(t, '1.20', signed.file);
      if (!result) return;
      assertServedWith(result, signed);
    });
  }

  it('kubectl 1.20 refreshes an expired legacy token itself instead of sending the stale one', async (t) => {
    const signed = await signedIn('auth-provider', 'legacy', { expiresInSeconds: -120 });
    const result = await getNamespaces(t, '1.20', signed.file);
    if (!result) return;
    assert.notEqual(result.code, 0);
    assert.ok(egress.attempts.includes(LOGIN_HOST), `no attempt to reach ${LOGIN_HOST}: ${JSON.stringify(egress.attempts)}`);
    assert.match(result.stderr, /refresh/i);
    assert.doesNotMatch(result.stderr, /devicecode|devicelogin/, 'a refresh token was there, yet kubectl went for a device-code sign-in');
    assert.equal(
      fixture.server.requests.filter((request) => request.tokenSha256 === sha256Hex(signed.token)).length,
      0,
      'kubectl sent the expired token to the API server',
    );
  });

  for (const version of ['1.27', '1.33'] as const) {
    for (const skeletonFormat of ['exec-kubelogin', 'auth-provider'] as const) {
      it(`kubectl ${version} uses the token form written over the ${skeletonFormat} skeleton`, async (t) => {
        const signed = await signedIn(skeletonFormat, 'token');
        const result = await getNamespaces(t, version, signed.file);
        if (!result) return;
        assertServedWith(result, signed);
      });
    }
  }

  it('kubectl 1.33 refuses the legacy form with the removal message (why auto writes token for it)', async (t) => {
    const signed = await signedIn('auth-provider', 'legacy');
    const before = fixture.server.requests.length;
    const result = await getNamespaces(t, '1.33', signed.file);
    if (!result) return;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /azure auth plugin has been removed/);
    assert.equal(fixture.server.requests.length, before, 'kubectl reached the API server despite refusing the config');
  });

  for (const version of ['1.27', '1.33'] as const) {
    it(`kubectl ${version} is back on the kubelogin skeleton after the token form is cleared`, async (t) => {
      const signed = await signedIn('exec-kubelogin', 'token');
      await clearCredentials(signed.file, USER);
      assert.equal(readFileSync(signed.file, 'utf8'), signed.skeleton);
      const result = await getNamespaces(t, version, signed.file);
      if (!result) return;
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /kubelogin/);
      assert.match(result.stderr, /executable file not found|not installed/);
      assert.equal(fixture.server.requests.filter((request) => request.tokenSha256 === sha256Hex(signed.token)).length, 0);
    });
  }

  for (const version of ['1.27', '1.33'] as const) {
    it(`kubectl ${version} gets a 401 from the API server for an expired token in the token form`, async (t) => {
      const signed = await signedIn('exec-kubelogin', 'token', { expiresInSeconds: -60 });
      const result = await getNamespaces(t, version, signed.file);
      if (!result) return;
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Unauthorized|must be logged in/);
      const ours = fixture.server.requests.filter((request) => request.tokenSha256 === sha256Hex(signed.token));
      assert.ok(ours.length > 0);
      assert.ok(ours.every((request) => request.status === 401 && request.authFailure === 'token expired'));
    });
  }

  describe('a user entry that carries an extensions list', () => {
    // A foreign extension already on the user, next to the one our engine adds for the skeleton.
    const withForeignExtension = (text: string): string =>
      text.replace(/^( {2}user:\n)/m, '$1    extensions:\n    - extension:\n        team: platform\n      name: example.com/owner\n');

    const cases: Array<[KubectlVersion, 'legacy' | 'token']> = [
      ['1.20', 'legacy'],
      ['1.27', 'token'],
      ['1.33', 'token'],
    ];
    for (const [version, format] of cases) {
      it(`kubectl ${version} accepts the ${format} form with extensions on the user`, async (t) => {
        const signed = await signedIn('exec-kubelogin', format, { transform: withForeignExtension });
        const written = readFileSync(signed.file, 'utf8');
        assert.match(written, /example\.com\/owner/);
        assert.match(written, /^ {4}extensions:/m);
        const result = await getNamespaces(t, version, signed.file);
        if (!result) return;
        assertServedWith(result, signed);
      });
    }
  });
});
