// No token or credential in any log line, error message or request record, across a run that takes every
// path: discovery, credentials of each kind, throttling, claims challenges, refusals, a wrong tenant. The
// logger records what the code logged, unredacted; a "[redacted" anywhere would mean the first line of
// defence (never putting one there) had failed and only the second caught it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ArmError } from '../../../src/core/arm';
import { clusterResourceId, type ArmClusterSpec } from '../../support/arm';
import { ALICE, BOB, clientFor, CONTOSO_TENANT, startArmFixture, type ArmFixture } from './harness';

let fixture: ArmFixture;
before(async () => {
  fixture = await startArmFixture({ pageSize: { clusters: 1 } });
});
after(() => fixture.close());

const jwtShaped = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/;

it('keeps every token and credential out of logs, errors and the request log', async (t) => {
  const alice = await fixture.signIn(ALICE);
  const bob = await fixture.signIn(BOB);
  const { client, logger } = clientFor(fixture, alice);
  const { client: bobClient, logger: bobLogger } = clientFor(fixture, bob);
  const idOf = (name: string) => clusterResourceId(fixture.arm.world.clusters.find((cluster) => cluster.name === name) as ArmClusterSpec);
  const messages: string[] = [];
  const attempt = async (work: Promise<unknown>) => {
    try {
      await work;
    } catch (error) {
      assert.ok(error instanceof ArmError, String(error));
      messages.push(error.message, String(error.claims ?? ''), JSON.stringify(error));
    }
  };

  const secrets: string[] = [];
  fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: 0 });
  fixture.arm.controls.failNext({ kind: 'serverError', status: 503 });
  const result = await client.discoverClusters();
  assert.equal(result.clusters.length, 6);
  for (const cluster of ['aks-shop-prod', 'aks-dev', 'aks-dev-local']) {
    const kubeconfig = await client.getClusterUserCredential(idOf(cluster));
    const user = (parse(kubeconfig) as { users: Array<{ user: Record<string, unknown> }> }).users[0]?.user ?? {};
    for (const key of ['token', 'client-key-data', 'client-certificate-data']) if (typeof user[key] === 'string') secrets.push(user[key] as string);
  }
  const admin = (parse(await client.getClusterAdminCredential(idOf('aks-shop-legacy'))) as { users: Array<{ user: Record<string, string> }> }).users[0]?.user ?? {};
  secrets.push(admin.token ?? '', admin['client-key-data'] ?? '');
  assert.equal(secrets.filter(Boolean).length, 5, 'the local-account credentials were found');

  await attempt(client.getClusterUserCredential(idOf('aks-sandbox-locked')));
  await attempt(bobClient.getClusterUserCredential(idOf('aks-shop-legacy')));
  await attempt(bobClient.getCluster(idOf('aks-payments')));
  await attempt(client.getCluster(idOf('aks-fabrikam')));
  fixture.arm.controls.requireClaims(CONTOSO_TENANT, 'mfa');
  t.after(() => fixture.arm.controls.requireClaims(CONTOSO_TENANT, undefined));
  await attempt(client.listSubscriptions(CONTOSO_TENANT));
  assert.ok(messages.length >= 15, 'every refusal was seen');

  const tokens = [...new Set([...alice.issued, ...bob.issued])];
  assert.ok(tokens.length >= 2);
  const everything = [...logger.lines, ...bobLogger.lines, ...messages, JSON.stringify(fixture.arm.requests)];
  assert.ok(logger.lines.filter((line) => line.includes('/listClusterUserCredential → 200')).length === 3, 'the client logged its requests');
  for (const text of everything) {
    for (const token of tokens) assert.ok(!text.includes(token), `a token appeared in: ${text.slice(0, 120)}`);
    for (const secret of secrets.filter(Boolean)) assert.ok(!text.includes(secret), `a credential appeared in: ${text.slice(0, 120)}`);
    assert.doesNotMatch(text, jwtShaped);
    assert.doesNotMatch(text, /\[redacted/);
  }
});
