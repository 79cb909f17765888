// Properties over generated az-style kubeconfigs: whatever the layout, ids, line endings and token
// bytes, a write touches only the owned user's body, reads back what was written, and sign-out
// restores the original bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { patchClear, patchCredentials, readKubeconfig, type Credentials } from '../../../src/core/kubeconfig';
import { azNames, azSkeleton, type AzSkeletonOptions } from '../../support/kubeconfig-fixtures';
import { scratchFolder } from './support';

const guid = fc.uuid();

const skeletonOptions: fc.Arbitrary<AzSkeletonOptions> = fc.record({
  server: fc.constant('https://127.0.0.1:6443'),
  format: fc.constantFrom('exec-kubelogin' as const, 'auth-provider' as const),
  contexts: fc.integer({ min: 1, max: 4 }),
  serverId: guid,
  clientId: fc.option(guid, { nil: null }),
  tenantId: fc.option(fc.oneof(guid, fc.constant('contoso.onmicrosoft.com')), { nil: null }),
  environment: fc.constantFrom('AzurePublicCloud', 'AzureChinaCloud', 'AzureUSGovernmentCloud'),
  configMode: fc.constantFrom('0' as const, '1' as const, null),
  argStyle: fc.constantFrom('separate' as const, 'equals' as const),
  argOrder: fc.constantFrom('az' as const, 'kubelogin' as const),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
});

/** Comment lines inserted between top-level entries, where people put them. */
function withComments(text: string, seed: number): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return text
    .split(eol)
    .map((line, index) => ((index + seed) % 7 === 0 && line.startsWith('- ') ? `# note ${index}${eol}${line}` : line))
    .join(eol);
}

const anyToken = fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.base64String({ minLength: 4, maxLength: 120 }));

const credentialsArb: fc.Arbitrary<Credentials> = fc.record({
  format: fc.constantFrom('legacy' as const, 'token' as const),
  accessToken: anyToken.filter((token) => token.trim() !== ''),
  refreshToken: anyToken,
  expiresOn: fc.integer({ min: 1_600_000_000, max: 2_100_000_000 }).map((seconds) => new Date(seconds * 1000)),
  expiresInSeconds: fc.integer({ min: 0, max: 90_000 }),
});

const scenario = fc.record({ options: skeletonOptions, comments: fc.nat(6), pick: fc.nat(), credentials: credentialsArb, then: credentialsArb });

function prepare({ options, comments, pick }: { options: AzSkeletonOptions; comments: number; pick: number }) {
  const text = withComments(azSkeleton(options), comments);
  const index = pick % (options.contexts ?? 1);
  return { text, userName: azNames(index).user, eol: options.eol ?? '\n' };
}

function userBody(text: string, userName: string): Record<string, unknown> {
  const config = parse(text) as { users: Array<{ name: string; user: Record<string, unknown> }> };
  const user = config.users.find((entry) => entry.name === userName);
  assert.ok(user);
  return user.user;
}

test('a patch changes only lines inside the owned user body', () => {
  fc.assert(
    fc.property(scenario, (input) => {
      const { text, userName, eol } = prepare(input);
      const patched = patchCredentials(text, 'config', userName, input.credentials);
      const before = text.split(eol);
      const after = patched.split(eol);
      const header = before.indexOf(`- name: ${userName}`);
      assert.ok(header >= 0);
      const bodyStart = header + 2;
      let next = bodyStart;
      while (next < before.length && !before[next]?.startsWith('- ') && !before[next]?.startsWith('#')) next++;
      const tail = before.length - next;
      assert.deepEqual(after.slice(0, bodyStart), before.slice(0, bodyStart));
      assert.deepEqual(after.slice(after.length - tail), before.slice(next));
      if (eol === '\r\n') assert.doesNotMatch(patched, /[^\r]\n/);
      // Every other user is untouched as data too.
      const others = (parse(text) as { users: Array<{ name: string }> }).users.filter((user) => user.name !== userName);
      assert.deepEqual((parse(patched) as { users: Array<{ name: string }> }).users.filter((user) => user.name !== userName), others);
    }),
    { numRuns: 150 },
  );
});

test('write then read round-trips the credentials, in either format and after switching formats', () => {
  fc.assert(
    fc.property(scenario, (input) => {
      const { text, userName } = prepare(input);
      // Each format from the skeleton, then one written over the other.
      for (const credentials of [input.credentials, input.then]) {
        const patched = patchCredentials(text, 'config', userName, credentials);
        const body = userBody(patched, userName);
        if (credentials.format === 'token') {
          assert.equal(body['token'], credentials.accessToken);
          assert.equal(body['auth-provider'], undefined);
          assert.equal(body['exec'], undefined);
        } else {
          const config = (body['auth-provider'] as { config: Record<string, unknown> }).config;
          assert.equal(body['exec'], undefined);
          assert.equal(config['access-token'], credentials.accessToken);
          assert.equal(config['refresh-token'], credentials.refreshToken);
          assert.equal(config['expires-on'], String(credentials.expiresOn.getTime() / 1000));
          assert.equal(config['expires-in'], String(credentials.expiresInSeconds));
          for (const value of Object.values(config)) assert.equal(typeof value, 'string');
          assert.equal(Object.keys(config).length, 9);
        }
      }
      const twice = patchCredentials(patchCredentials(text, 'config', userName, input.credentials), 'config', userName, input.then);
      const body = userBody(twice, userName);
      assert.equal(input.then.format === 'token' ? body['token'] : (body['auth-provider'] as { config: Record<string, unknown> }).config['access-token'], input.then.accessToken);
    }),
    { numRuns: 150 },
  );
});

test('write, any further writes, then clear restores the exact original bytes', () => {
  fc.assert(
    fc.property(scenario, (input) => {
      const { text, userName } = prepare(input);
      const once = patchCredentials(text, 'config', userName, input.credentials);
      assert.equal(patchClear(once, 'config', userName), text);
      const twice = patchCredentials(once, 'config', userName, input.then);
      assert.equal(patchClear(twice, 'config', userName), text);
      assert.equal(patchClear(text, 'config', userName), text);
    }),
    { numRuns: 150 },
  );
});

test('what is written is what readKubeconfig reports, through the file system', async (t) => {
  const dir = scratchFolder(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async (input) => {
      const { text, userName } = prepare(input);
      const file = join(dir, `config-${run++}`);
      writeFileSync(file, patchCredentials(text, 'config', userName, input.credentials));
      const original = (await readKubeconfig([join(dir, 'none'), file])).users.get(userName);
      writeFileSync(file, text);
      const skeleton = (await readKubeconfig([file])).users.get(userName);
      assert.equal(original?.credential.kind, 'aks');
      assert.equal(skeleton?.credential.kind, 'aks');
      if (original?.credential.kind !== 'aks' || skeleton?.credential.kind !== 'aks') return;
      assert.deepEqual(original.credential.identity, skeleton.credential.identity);
      assert.equal(original.credential.format, input.credentials.format);
      assert.equal(original.credential.managed, true);
      if (input.credentials.format === 'legacy') {
        assert.equal(original.credential.expiresOn?.getTime(), input.credentials.expiresOn.getTime());
      }
    }),
    { numRuns: 40 },
  );
});
