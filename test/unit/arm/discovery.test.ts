// Discovery against the ARM double with tokens from real MSAL: what the walk finds, in pages and as it goes,
// how many requests it keeps in flight, and that it stops when cancelled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmError, type ClusterSummary } from '../../../src/core/arm';
import { DEMO_SUBSCRIPTIONS, demoWorld, scaledWorld, type ArmWorld } from '../../support/arm';
import { demo } from '../../support/identity-platform';
import { ALICE, CAROL, clientFor, collect, CONTOSO_TENANT, FABRIKAM_TENANT, startArmFixture, type ArmFixture } from './harness';

const oidOf = (username: string) => demo.defaultUsers().find((user) => user.username === username)?.oid as string;

describe('discovery in the demo tenants', () => {
  let fixture: ArmFixture;
  before(async () => {
    fixture = await startArmFixture();
  });
  after(() => fixture.close());

  it('walks tenants → subscriptions → clusters and summarises each cluster the way a view shows it', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    const seenSubscriptions: string[] = [];
    const result = await client.discoverClusters({ onSubscription: (subscription) => seenSubscriptions.push(subscription.displayName) });
    assert.deepEqual(result.tenants.map((tenant) => [tenant.tenantId, tenant.displayName, tenant.defaultDomain, tenant.category]), [[CONTOSO_TENANT, 'Contoso', 'contoso.onmicrosoft.com', 'Home']]);
    assert.deepEqual(seenSubscriptions.sort(), ['Contoso Development', 'Contoso Production']);
    assert.deepEqual(result.failures, []);
    const byName = new Map(result.clusters.map((cluster) => [cluster.name, cluster]));
    assert.deepEqual([...byName.keys()].sort(), ['aks-dev', 'aks-dev-local', 'aks-payments', 'aks-sandbox-locked', 'aks-shop-legacy', 'aks-shop-prod']);

    const prod = byName.get('aks-shop-prod') as ClusterSummary;
    assert.equal(prod.subscriptionId, DEMO_SUBSCRIPTIONS.CONTOSO_PROD);
    assert.equal(prod.resourceGroup, 'rg-shop');
    assert.equal(prod.tenantId, CONTOSO_TENANT);
    assert.equal(prod.location, 'westeurope');
    assert.equal(prod.kubernetesVersion, '1.30.6');
    assert.equal(prod.provisioningState, 'Succeeded');
    assert.equal(prod.powerState, 'Running');
    assert.match(prod.fqdn ?? '', /\.hcp\.westeurope\.azmk8s\.io$/);
    assert.equal(prod.isPrivate, false);
    assert.deepEqual(prod.entraId, { mode: 'aksManagedEntra', azureRbac: true, tenantId: CONTOSO_TENANT, adminGroupObjectIds: [demo.CLUSTER_ADMINS_GROUP] });
    assert.equal(prod.localAccountsDisabled, true);
    // AKS writes the id with `resourcegroups` in lower case; the summary keeps ARM's id and parses it anyway.
    assert.match(prod.id, /\/resourcegroups\/rg-shop\//);

    const legacy = byName.get('aks-shop-legacy') as ClusterSummary;
    assert.deepEqual(legacy.entraId, { mode: 'legacyAad', serverAppId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b', clientAppId: 'a5b4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d', tenantId: CONTOSO_TENANT });
    const payments = byName.get('aks-payments') as ClusterSummary;
    assert.equal(payments.resourceGroup, 'RG-Payments');
    assert.equal(payments.isPrivate, true);
    assert.equal(payments.fqdn, undefined);
    assert.match(payments.privateFqdn ?? '', /\.privatelink\.northeurope\.azmk8s\.io$/);
    assert.deepEqual(byName.get('aks-dev-local')?.entraId, { mode: 'localAccountsOnly' });
    assert.equal(byName.get('aks-sandbox-locked')?.localAccountsDisabled, true);
  });

  it('reports a tenant where the account sees no subscription, with the tenant and what to ask for', async (t) => {
    const carol = oidOf(CAROL);
    const roles = fixture.arm.world.roleAssignments.filter((assignment) => assignment.principalId === carol);
    fixture.arm.controls.removeRoles(carol);
    t.after(() => roles.forEach((assignment) => fixture.arm.controls.assignRole(assignment)));
    const { client } = clientFor(fixture, await fixture.signIn(CAROL));
    assert.deepEqual(await client.listSubscriptions(FABRIKAM_TENANT), []);
    const failures: string[] = [];
    const result = await client.discoverClusters({ onFailure: (failure) => failures.push(failure.error.message) });
    assert.equal(result.clusters.length, 0);
    assert.equal(result.failures.length, 1);
    const error = result.failures[0]?.error;
    assert.ok(error instanceof ArmError && error.kind === 'noSubscriptions', String(error));
    assert.equal(error.tenantId, FABRIKAM_TENANT);
    assert.match(error.message, /no Azure subscription in tenant Fabrikam \(c9d4e8b2-[^)]+\)\. Ask an owner of a subscription there for the Reader role/);
    assert.deepEqual(failures, [error.message]);
  });
});

describe('discovery across a tenant the account cannot get a token for', () => {
  let fixture: ArmFixture;
  before(async () => {
    const world = demoWorld();
    // Alice is listed in Fabrikam too, but the identity platform will not issue her a Fabrikam token.
    world.tenants.find((tenant) => tenant.tenantId === FABRIKAM_TENANT)?.members.push(oidOf(ALICE));
    fixture = await startArmFixture({ world });
  });
  after(() => fixture.close());

  it('goes on with the other tenants and reports the one that failed', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    const tenants = await client.listTenants();
    assert.deepEqual(tenants.map((tenant) => tenant.displayName).sort(), ['Contoso', 'Fabrikam']);
    const result = await client.discoverClusters({ tenants });
    assert.equal(result.clusters.length, 6);
    assert.equal(result.failures.length, 1);
    const failure = result.failures[0];
    assert.equal(failure?.tenantId, FABRIKAM_TENANT);
    assert.ok(failure?.error instanceof ArmError && failure.error.kind === 'unauthenticated', String(failure?.error));
    assert.match(failure.error.message, /^Could not list the subscriptions of tenant c9d4e8b2-/);
  });
});

function pagedWorld(): ArmWorld {
  const world = scaledWorld({ tenantId: CONTOSO_TENANT, principalId: oidOf(ALICE), subscriptions: 12, clustersPerSubscription: 2 });
  // One subscription with more clusters than fit on three pages of two.
  const big = world.subscriptions[0]?.subscriptionId as string;
  for (let index = 0; index < 5; index++) world.clusters.push({ subscriptionId: big, resourceGroup: 'rg-many', name: `aks-many-${index}`, location: 'eastus' });
  return world;
}

describe('paging and concurrency', () => {
  let fixture: ArmFixture;
  before(async () => {
    fixture = await startArmFixture({ world: pagedWorld(), latencyMs: 40, pageSize: { clusters: 2, subscriptions: 5 } });
  });
  after(() => fixture.close());

  it('follows nextLink with $skipToken through every page of clusters and of subscriptions', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    const big = fixture.arm.world.subscriptions[0]?.subscriptionId as string;
    const subscriptions = await client.listSubscriptions(CONTOSO_TENANT);
    assert.equal(subscriptions.length, 12);
    fixture.arm.resetStats();
    const pages = await collect(client.listClusters(big));
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 2, 1]);
    assert.equal(new Set(pages.flat().map((cluster) => cluster.id)).size, 7);
    const asked = fixture.arm.requests.map((request) => request.query);
    assert.equal(asked.length, 4);
    assert.doesNotMatch(asked[0] ?? '', /skipToken/);
    for (const query of asked.slice(1)) assert.match(query, /[?&]%24skipToken=/);
  });

  it('shows the first clusters before the last page is fetched', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { concurrency: 2 });
    fixture.arm.resetStats();
    let firstShownAt = 0;
    await client.discoverClusters({
      tenants: [CONTOSO_TENANT],
      onClusters: (_subscription, clusters) => {
        if (clusters.length > 0 && firstShownAt === 0) firstShownAt = Date.now();
      },
    });
    const clusterRequests = fixture.arm.requests.filter((request) => request.path.endsWith('/managedClusters'));
    assert.equal(clusterRequests.length, 11 + 4);
    const lastAnswered = Math.max(...clusterRequests.map((request) => request.answeredAt));
    const lastPageAsked = Math.max(...clusterRequests.map((request) => request.at));
    assert.ok(firstShownAt > 0 && firstShownAt < lastPageAsked, `first cluster shown at +${firstShownAt - lastPageAsked} ms from the last page's request`);
    assert.ok(lastAnswered - firstShownAt >= 5 * 40, 'most of the walk was still to come');
  });

  for (const concurrency of [3, 6]) {
    it(`keeps at most ${concurrency} requests in flight at the server, and uses them all`, async () => {
      const { client } = clientFor(fixture, await fixture.signIn(ALICE), { concurrency });
      fixture.arm.resetStats();
      const started = Date.now();
      const result = await client.discoverClusters({ tenants: [CONTOSO_TENANT] });
      assert.equal(result.clusters.length, 12 * 2 + 5);
      assert.equal(fixture.arm.peakInFlight, concurrency);
      assert.ok(Math.max(...fixture.arm.requests.map((request) => request.inFlight)) <= concurrency);
      // 3 pages of subscriptions, then 12 first pages of clusters `concurrency` at a time: a floor on the time.
      assert.ok(Date.now() - started >= (3 + Math.ceil(12 / concurrency)) * 40);
    });
  }

  it('stops asking and reporting once cancelled mid-walk', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { concurrency: 2 });
    fixture.arm.resetStats();
    const controller = new AbortController();
    let pagesAfterAbort = 0;
    let abortedAt = 0;
    const walk = client.discoverClusters({
      tenants: [CONTOSO_TENANT],
      signal: controller.signal,
      onClusters: () => {
        if (abortedAt !== 0) pagesAfterAbort++;
        else {
          abortedAt = Date.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(walk, (error: unknown) => error instanceof ArmError && error.kind === 'cancelled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pagesAfterAbort, 0);
    // A request already on its way may land a little after the abort; an uncancelled walk would have sent
    // several more in this window (two every 40 ms).
    const askedAfter = fixture.arm.requests.filter((request) => request.at > abortedAt + 100);
    assert.deepEqual(askedAfter, [], 'no request was sent after the abort');
    assert.ok(fixture.arm.requests.filter((request) => request.path.endsWith('/managedClusters')).length < 15, 'the walk did not finish');
  });
});
