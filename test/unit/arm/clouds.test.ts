// Which ARM endpoint and token scope each cloud means, and a sovereign cloud end to end: the double shaped
// like Azure Government accepts only Government-audience tokens, so a wrong scope choice fails here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { AuthError } from '../../../src/core/auth';
import { resourceManagerFor } from '../../../src/core/arm';
import { ROLES, type ArmWorld } from '../../support/arm';
import { demo } from '../../support/identity-platform';
import { ALICE, clientFor, CONTOSO_TENANT, decodeClaims, rawRequest, startArmFixture, type ArmFixture } from './harness';

describe('resourceManagerFor', () => {
  it('gives each cloud its endpoint and the audience the Azure CLI asks for', () => {
    assert.deepEqual(resourceManagerFor('AzurePublicCloud'), { cloud: 'AzurePublicCloud', endpoint: 'https://management.azure.com', scopes: ['https://management.core.windows.net//.default'] });
    assert.deepEqual(resourceManagerFor('AzureUSGovernmentCloud'), { cloud: 'AzureUSGovernmentCloud', endpoint: 'https://management.usgovcloudapi.net', scopes: ['https://management.core.usgovcloudapi.net//.default'] });
    assert.deepEqual(resourceManagerFor('AzureChinaCloud'), { cloud: 'AzureChinaCloud', endpoint: 'https://management.chinacloudapi.cn', scopes: ['https://management.core.chinacloudapi.cn//.default'] });
    assert.equal(resourceManagerFor('AzureGermanCloud').endpoint, 'https://management.microsoftazure.de');
  });

  it('matches names as client-go does: any case, unknown meaning public', () => {
    assert.equal(resourceManagerFor('azureusgovernmentcloud').cloud, 'AzureUSGovernmentCloud');
    assert.equal(resourceManagerFor('MarsCloud').endpoint, 'https://management.azure.com');
  });

  it('lets an https override replace the endpoint but keeps the cloud\'s scope', () => {
    assert.deepEqual(resourceManagerFor('AzureChinaCloud', 'https://127.0.0.1:9443/'), { cloud: 'AzureChinaCloud', endpoint: 'https://127.0.0.1:9443', scopes: ['https://management.core.chinacloudapi.cn//.default'] });
    assert.equal(resourceManagerFor('AzurePublicCloud', '  ').endpoint, 'https://management.azure.com');
    assert.throws(() => resourceManagerFor('AzurePublicCloud', 'http://127.0.0.1:9443'), (error: unknown) => error instanceof AuthError && /Azure Resource Manager endpoint "http:\/\/127\.0\.0\.1:9443" must use https/.test(error.message));
  });
});

describe('the public cloud double', () => {
  let fixture: ArmFixture;
  before(async () => {
    fixture = await startArmFixture();
  });
  after(() => fixture.close());

  it('accepts tokens for both forms of the ARM resource, as ARM does', async () => {
    for (const [scope, audience] of [
      ['https://management.core.windows.net//.default', 'https://management.core.windows.net/'],
      ['https://management.azure.com/.default', 'https://management.azure.com'],
    ] as const) {
      const signIn = await fixture.signIn(ALICE, [scope]);
      const token = await signIn.tokenFor({ scopes: [scope] });
      assert.equal(decodeClaims(token).aud, audience);
      const answer = await rawRequest(`${fixture.arm.url}/tenants?api-version=2022-12-01`, { token });
      assert.equal(answer.status, 200, answer.body);
    }
  });

  it('answers a missing token the way ARM does', async () => {
    const answer = await rawRequest(`${fixture.arm.url}/subscriptions?api-version=2022-12-01`);
    assert.equal(answer.status, 401);
    assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token", error_description="/);
    assert.deepEqual(JSON.parse(answer.body), { error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
  });
});

function governmentWorld(principalId: string): ArmWorld {
  const subscriptionId = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  return {
    tenants: [{ tenantId: CONTOSO_TENANT, displayName: 'Contoso Federal', defaultDomain: 'contoso.onmicrosoft.us', members: [principalId] }],
    subscriptions: [{ subscriptionId, tenantId: CONTOSO_TENANT, displayName: 'Federal Production' }],
    clusters: [{ subscriptionId, resourceGroup: 'rg-fed', name: 'aks-fed', location: 'usgovvirginia' }],
    roleAssignments: [{ principalId, role: ROLES.owner, scope: `/subscriptions/${subscriptionId}` }],
  };
}

describe('a sovereign cloud', () => {
  let fixture: ArmFixture;
  const alice = demo.defaultUsers().find((user) => user.username === ALICE)?.oid as string;
  const governmentScope = 'https://management.core.usgovcloudapi.net//.default';
  before(async () => {
    fixture = await startArmFixture({ cloud: 'AzureUSGovernmentCloud', world: governmentWorld(alice) });
  });
  after(() => fixture.close());

  it('asks for the Government audience and gets Government-shaped clusters and kubeconfigs', async () => {
    const signIn = await fixture.signIn(ALICE, [governmentScope]);
    const { client } = clientFor(fixture, signIn, { environment: 'AzureUSGovernmentCloud' });
    assert.deepEqual(client.scopes, [governmentScope]);
    const result = await client.discoverClusters();
    assert.deepEqual(result.failures, []);
    const [cluster] = result.clusters;
    assert.equal(cluster?.location, 'usgovvirginia');
    assert.match(cluster?.fqdn ?? '', /\.hcp\.usgovvirginia\.cx\.aks\.containerservice\.azure\.us$/);
    assert.ok(signIn.calls.length > 0 && signIn.calls.every((call) => call.scopes.join(' ') === governmentScope));
    const config = parse(await client.getClusterUserCredential(cluster?.id ?? '', { format: 'exec' })) as { users: Array<{ user: { exec: { args: string[] } } }> };
    const args = config.users[0]?.user.exec.args ?? [];
    assert.equal(args[args.indexOf('--environment') + 1], 'AzureUSGovernmentCloud');
  });

  it('refuses a public-cloud token, so a client that picked the wrong scope cannot pass', async () => {
    const signIn = await fixture.signIn(ALICE);
    const { client } = clientFor(fixture, signIn);
    await assert.rejects(client.listTenants(), (error: unknown) => (error as { code?: string }).code === 'InvalidAuthenticationTokenAudience');
  });
});
