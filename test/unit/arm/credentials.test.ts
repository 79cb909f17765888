// Getting a cluster's kubeconfig, and what each role lets a person do: the text ARM hands out for every kind of
// cluster and format, and the errors that name the role to ask for.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ArmError, AKS_CLUSTER_ADMIN_ROLE, AKS_CLUSTER_USER_ROLE, READER_ROLE, type ArmClient } from '../../../src/core/arm';
import { clusterResourceId, DEMO_SUBSCRIPTIONS, ROLES, type ArmClusterSpec } from '../../support/arm';
import { AKS_MANAGED_CLIENT_ID, AKS_MANAGED_SERVER_ID } from '../../support/kubeconfig-fixtures';
import { demo } from '../../support/identity-platform';
import { ALICE, BOB, clientFor, collect, CONTOSO_TENANT, startArmFixture, testCa, type ArmFixture } from './harness';

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
  users: Array<{ name: string; user: Record<string, unknown> & { exec?: { command: string; args: string[]; apiVersion: string }; 'auth-provider'?: { name: string; config: Record<string, string> } } }>;
}

let fixture: ArmFixture;
let alice: ArmClient;
let bob: ArmClient;
const idOf = (name: string) => {
  const cluster = fixture.arm.world.clusters.find((candidate) => candidate.name === name) as ArmClusterSpec;
  return clusterResourceId(cluster);
};
const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
const is = (kind: string, check?: (error: ArmError) => void) => (error: unknown) => {
  assert.ok(error instanceof ArmError, `expected an ArmError, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  check?.(error);
  return true;
};

before(async () => {
  fixture = await startArmFixture();
  alice = clientFor(fixture, await fixture.signIn(ALICE)).client;
  bob = clientFor(fixture, await fixture.signIn(BOB)).client;
});
after(() => fixture.close());

describe('user credentials for each kind of cluster', () => {
  it('format=exec gives the kubelogin skeleton of an AKS-managed Entra ID cluster, named as az names it', async () => {
    const text = await alice.getClusterUserCredential(idOf('aks-shop-prod'), { format: 'exec' });
    const config = parse(text) as Kubeconfig;
    assert.equal(config['current-context'], 'aks-shop-prod');
    assert.deepEqual(config.contexts[0]?.context, { cluster: 'aks-shop-prod', user: 'clusterUser_rg-shop_aks-shop-prod' });
    const exec = config.users[0]?.user.exec;
    assert.equal(exec?.command, 'kubelogin');
    assert.equal(exec?.apiVersion, 'client.authentication.k8s.io/v1beta1');
    assert.equal(exec?.args[0], 'get-token');
    assert.equal(flag(exec?.args ?? [], '--server-id'), AKS_MANAGED_SERVER_ID);
    assert.equal(flag(exec?.args ?? [], '--client-id'), AKS_MANAGED_CLIENT_ID);
    assert.equal(flag(exec?.args ?? [], '--tenant-id'), CONTOSO_TENANT);
    assert.equal(flag(exec?.args ?? [], '--environment'), 'AzurePublicCloud');
    assert.equal(flag(exec?.args ?? [], '--login'), 'devicecode');
    assert.match(config.clusters[0]?.cluster.server ?? '', /^https:\/\/aks-shop-p-rg-shop-8c3f1b-[0-9a-f]{8}\.hcp\.westeurope\.azmk8s\.io:443$/);
    assert.match(fixture.arm.requests.at(-1)?.query ?? '', /[?&]format=exec(&|$)/);
  });

  it('format=azure gives the historic auth-provider block', async () => {
    const config = parse(await alice.getClusterUserCredential(idOf('aks-shop-prod'), { format: 'azure' })) as Kubeconfig;
    const provider = config.users[0]?.user['auth-provider'];
    assert.equal(provider?.name, 'azure');
    assert.deepEqual(provider?.config, { 'apiserver-id': AKS_MANAGED_SERVER_ID, 'client-id': AKS_MANAGED_CLIENT_ID, 'config-mode': '1', environment: 'AzurePublicCloud', 'tenant-id': CONTOSO_TENANT });
    assert.equal(config.users[0]?.user.exec, undefined);
  });

  it('without a format, as az 2.45 asks, ARM decides by version: exec from 1.24, auth-provider before', async () => {
    const current = parse(await alice.getClusterUserCredential(idOf('aks-shop-prod'))) as Kubeconfig;
    assert.doesNotMatch(fixture.arm.requests.at(-1)?.query ?? '', /format=/);
    assert.equal(current.users[0]?.user.exec?.command, 'kubelogin');
    const old = parse(await alice.getClusterUserCredential(idOf('aks-dev'))) as Kubeconfig;
    assert.equal(old.users[0]?.user['auth-provider']?.name, 'azure');
  });

  it('a legacy Entra ID cluster names its own server and client apps', async () => {
    const config = parse(await alice.getClusterUserCredential(idOf('aks-shop-legacy'), { format: 'exec' })) as Kubeconfig;
    const args = config.users[0]?.user.exec?.args ?? [];
    assert.equal(flag(args, '--server-id'), 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b');
    assert.equal(flag(args, '--client-id'), 'a5b4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d');
  });

  it('a cluster with local accounts only gives a client certificate, whatever the format', async () => {
    const config = parse(await alice.getClusterUserCredential(idOf('aks-dev-local'), { format: 'exec' })) as Kubeconfig;
    const user = config.users[0]?.user ?? {};
    assert.equal(config.users[0]?.name, 'clusterUser_rg-dev_aks-dev-local');
    assert.match(String(user['client-certificate-data']), /^[A-Za-z0-9+/]+=*$/);
    assert.match(Buffer.from(String(user['client-key-data']), 'base64').toString('utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(String(user.token), /^[0-9a-f]{64}$/);
    assert.equal(user.exec, undefined);
  });

  it('local accounts disabled without Entra ID is refused with ARM\'s reason', async () => {
    await assert.rejects(
      alice.getClusterUserCredential(idOf('aks-sandbox-locked')),
      is('badRequest', (error) => {
        assert.equal(error.code, 'BadRequest');
        assert.equal(error.status, 400);
        assert.match(error.message, /^Could not get the user credentials of AKS cluster aks-sandbox-locked \(resource group rg-sandbox, subscription 8c3f1b6e-[^)]+\): Azure refused the request \(BadRequest\)\. Azure said: Getting static credential is not allowed because this cluster is set to disable local accounts\.$/);
      }),
    );
  });

  it('admin credentials are the local admin account, and refused where local accounts are disabled', async () => {
    const config = parse(await alice.getClusterAdminCredential(idOf('aks-shop-legacy'))) as Kubeconfig;
    assert.equal(config.users[0]?.name, 'clusterAdmin_rg-shop_aks-shop-legacy');
    // ARM names the context after the cluster; az renames it `<name>-admin` when it merges.
    assert.equal(config.contexts[0]?.name, 'aks-shop-legacy');
    assert.ok(config.users[0]?.user['client-certificate-data']);
    await assert.rejects(alice.getClusterAdminCredential(idOf('aks-shop-prod')), is('badRequest', (error) => assert.match(error.message, /disable local accounts/)));
  });

  it('points the kubeconfig at the server and CA the double was given, for end-to-end tests', async (t) => {
    const cluster = fixture.arm.world.clusters.find((candidate) => candidate.name === 'aks-shop-prod') as ArmClusterSpec;
    const caData = Buffer.from(testCa().caPem).toString('base64');
    Object.assign(cluster, { server: 'https://127.0.0.1:6443', caData });
    t.after(() => {
      delete cluster.server;
      delete cluster.caData;
    });
    const config = parse(await alice.getClusterUserCredential(idOf('aks-shop-prod'), { format: 'exec' })) as Kubeconfig;
    assert.equal(config.clusters[0]?.cluster.server, 'https://127.0.0.1:6443');
    assert.equal(Buffer.from(config.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString('utf8'), testCa().caPem);
  });
});

describe('what each role allows', () => {
  it('a Reader on one resource group sees that subscription and only the clusters in that group', async () => {
    const subscriptions = await bob.listSubscriptions(CONTOSO_TENANT);
    assert.deepEqual(subscriptions.map((subscription) => subscription.displayName), ['Contoso Production']);
    const clusters = (await collect(bob.listClusters(DEMO_SUBSCRIPTIONS.CONTOSO_PROD))).flat();
    assert.deepEqual(clusters.map((cluster) => cluster.name).sort(), ['aks-shop-legacy', 'aks-shop-prod']);
  });

  it('the Cluster User Role on a cluster gets its credentials; Reader alone does not, and the error names the role and scope', async () => {
    assert.match(await bob.getClusterUserCredential(idOf('aks-shop-prod'), { format: 'exec' }), /command: kubelogin/);
    await assert.rejects(
      bob.getClusterUserCredential(idOf('aks-shop-legacy')),
      is('authorizationFailed', (error) => {
        assert.equal(error.status, 403);
        assert.equal(error.code, 'AuthorizationFailed');
        assert.equal(error.requiredRole, AKS_CLUSTER_USER_ROLE);
        assert.equal(error.action, 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action');
        assert.match(error.scope ?? '', /\/resourceGroups\/rg-shop\/providers\/Microsoft\.ContainerService\/managedClusters\/aks-shop-legacy$/);
        assert.match(error.message, /bob@contoso\.onmicrosoft\.com has no permission for Microsoft\.ContainerService\/managedClusters\/listClusterUserCredential\/action on \/subscriptions\/.+\/aks-shop-legacy\. Ask an owner of .+ to assign you the Azure Kubernetes Service Cluster User Role \(Reader alone lets you see a cluster, not connect to it\)\. If it was granted just now, sign in to Azure again/);
      }),
    );
  });

  it('reading a cluster outside the granted scope asks for Reader; the admin kubeconfig asks for the Cluster Admin Role', async () => {
    await assert.rejects(bob.getCluster(idOf('aks-payments')), is('authorizationFailed', (error) => {
      assert.equal(error.requiredRole, READER_ROLE);
      assert.equal(error.action, 'Microsoft.ContainerService/managedClusters/read');
    }));
    await assert.rejects(bob.getClusterAdminCredential(idOf('aks-shop-prod')), is('authorizationFailed', (error) => assert.equal(error.requiredRole, AKS_CLUSTER_ADMIN_ROLE)));
  });

  it('a subscription where the account has no role at all is refused for listing', async () => {
    await assert.rejects(collect(bob.listClusters(DEMO_SUBSCRIPTIONS.CONTOSO_DEV)), is('authorizationFailed', (error) => {
      assert.equal(error.scope, `/subscriptions/${DEMO_SUBSCRIPTIONS.CONTOSO_DEV}`);
      assert.equal(error.requiredRole, READER_ROLE);
    }));
  });

  it('a role granted afterwards works on the next request', async (t) => {
    const oid = demo.defaultUsers().find((user) => user.username === BOB)?.oid as string;
    const scope = idOf('aks-shop-legacy');
    fixture.arm.controls.assignRole({ principalId: oid, role: ROLES.clusterUser, scope });
    t.after(() => fixture.arm.controls.removeRoles(oid, scope));
    assert.match(await bob.getClusterUserCredential(scope, { format: 'exec' }), /aks-shop-legacy/);
  });
});

describe('finding one cluster', () => {
  it('reads a cluster by id, in any letter case ARM ids come in', async () => {
    const id = idOf('aks-payments').replace('/resourcegroups/', '/RESOURCEGROUPS/').replace('/providers/Microsoft.ContainerService/', '/providers/microsoft.containerservice/');
    const cluster = await alice.getCluster(id);
    assert.equal(cluster.name, 'aks-payments');
    assert.equal(cluster.resourceGroup, 'RG-Payments');
    assert.equal(cluster.isPrivate, true);
  });

  it('says not found for a cluster that is not there, and refuses an id that is not a cluster\'s without asking', async () => {
    const missing = `/subscriptions/${DEMO_SUBSCRIPTIONS.CONTOSO_PROD}/resourceGroups/rg-shop/providers/Microsoft.ContainerService/managedClusters/aks-gone`;
    await assert.rejects(alice.getCluster(missing), is('notFound', (error) => {
      assert.equal(error.code, 'ResourceNotFound');
      assert.match(error.message, /^Could not read AKS cluster aks-gone \(resource group rg-shop, subscription .+\): it was not found \(ResourceNotFound\)/);
    }));
    const before = fixture.arm.requests.length;
    await assert.rejects(alice.getCluster('/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z'), is('badRequest'));
    assert.equal(fixture.arm.requests.length, before);
  });
});
