// What the ARM client needs from the sign-in layer, checked against the sign-in engine as it is today: an
// Azure CLI client sign-in whose "server id" is ARM's resource id yields tokens the ARM double accepts.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthTarget } from '../../../src/core/auth';
import type { ArmTokenProvider } from '../../../src/core/arm';
import { AZURE_CLI_CLIENT_ID } from '../../support/arm/token-provider';
import { signInAs } from '../auth/harness';
import { newEngine } from '../auth/harness';
import { ALICE, clientFor, startArmFixture, type ArmFixture } from './harness';

let fixture: ArmFixture;
before(async () => {
  fixture = await startArmFixture();
});
after(() => fixture.close());

it('the sign-in engine can supply ARM tokens through a target whose server id is the ARM resource', async () => {
  const { engine } = newEngine();
  const target: AuthTarget = {
    environment: 'AzurePublicCloud',
    clientId: AZURE_CLI_CLIENT_ID,
    // scopesFor() appends /.default, which gives exactly the CLI's `https://management.core.windows.net//.default`.
    serverId: 'https://management.core.windows.net/',
    authorityHost: fixture.platform.url,
  };
  const signedIn = await signInAs(engine, fixture.platform, target, ALICE);
  const tokenFor: ArmTokenProvider = async (request) => {
    assert.equal(request.claims, undefined, 'the engine has no way to pass claims yet');
    const result = await engine.acquireSilent({ ...target, ...(request.tenantId ? { tenantId: request.tenantId } : {}) }, signedIn.account.homeAccountId);
    return result.accessToken;
  };
  const { client } = clientFor(fixture, await fixture.signIn(ALICE), { tokenFor });
  const result = await client.discoverClusters();
  assert.equal(result.clusters.length, 6);
  assert.deepEqual(result.failures, []);
  engine.dispose();
});
