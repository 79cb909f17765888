// When ARM or the network misbehaves: throttling with Retry-After (waits measured from the double's own log),
// 5xx and resets retried, claims challenges, tokens from the wrong tenant, and a network that is not there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ArmError, type ArmTokenProvider } from '../../../src/core/arm';
import { clusterResourceId, DEMO_SUBSCRIPTIONS, type ArmClusterSpec, type ArmRequestRecord } from '../../support/arm';
import { signJwt } from '../../support/jwt';
import { ALICE, CAROL, clientFor, collect, CONTOSO_TENANT, decodeClaims, FABRIKAM_TENANT, RecordingLogger, startArmFixture, testCa, type ArmFixture } from './harness';
import { ArmClient } from '../../../src/core/arm';

let fixture: ArmFixture;
before(async () => {
  fixture = await startArmFixture();
});
after(() => fixture.close());

const idOf = (name: string) => clusterResourceId(fixture.arm.world.clusters.find((cluster) => cluster.name === name) as ArmClusterSpec);
const is = (kind: string, check?: (error: ArmError) => void) => (error: unknown) => {
  assert.ok(error instanceof ArmError, `expected an ArmError, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  check?.(error);
  return true;
};
/** The gap between each answer and the next request's arrival, from the double's log. */
const gaps = (records: ArmRequestRecord[]) => records.slice(1).map((record, index) => record.at - (records[index] as ArmRequestRecord).answeredAt);

describe('throttling', () => {
  it('waits out Retry-After given in seconds before asking again', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: 1 });
    const subscriptions = await client.listSubscriptions(CONTOSO_TENANT);
    assert.equal(subscriptions.length, 2);
    const records = fixture.arm.requests;
    assert.deepEqual(records.map((record) => record.status), [429, 200]);
    assert.equal(records[0]?.code, 'TenantRequestsThrottled');
    const [gap] = gaps(records);
    assert.ok((gap ?? 0) >= 990 && (gap ?? 0) < 1600, `waited ${gap} ms`);
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.resetStats();
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
    fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: at });
    await client.listSubscriptions(CONTOSO_TENANT);
    const records = fixture.arm.requests;
    assert.deepEqual(records.map((record) => record.status), [429, 200]);
    assert.ok((records[1]?.at ?? 0) >= at.getTime() - 10, `asked again ${at.getTime() - (records[1]?.at ?? 0)} ms before the date`);
  });

  it('holds every request of the client, not just the throttled one, until the wait is over', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { concurrency: 1 });
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: 1 }, { match: /managedClusters$/ });
    const result = await client.discoverClusters({ tenants: [CONTOSO_TENANT] });
    assert.equal(result.clusters.length, 6);
    const throttled = fixture.arm.requests.find((record) => record.status === 429) as ArmRequestRecord;
    const during = fixture.arm.requests.filter((record) => record.at > throttled.answeredAt && record.at < throttled.answeredAt + 990);
    assert.deepEqual(during, []);
    assert.equal(throttled.code, 'SubscriptionRequestsThrottled');
  });

  it('does not sit through a wait longer than its bound: fails at once with the wait in the error', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: 120 });
    const started = Date.now();
    await assert.rejects(client.listSubscriptions(CONTOSO_TENANT), is('throttled', (error) => {
      assert.equal(error.retryAfterMs, 120_000);
      assert.equal(error.retryable, true);
      assert.equal(error.status, 429);
      assert.match(error.message, /^Could not list the subscriptions of tenant 3f2a6c1e-[^:]+: Azure Resource Manager is limiting requests from your account \(TenantRequestsThrottled\)\. Wait 2 min and try again\.$/);
    }));
    assert.ok(Date.now() - started < 500);
  });

  it('gives up after its attempts and says how long to wait', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { retry: { maxAttempts: 3 } });
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'throttle', retryAfter: 0 }, { count: 3 });
    await assert.rejects(client.listSubscriptions(CONTOSO_TENANT), is('throttled', (error) => {
      assert.equal(error.retryAfterMs, 0);
      assert.match(error.message, /after 3 attempts\. Wait a moment and try again\.$/);
    }));
    assert.equal(fixture.arm.requests.length, 3);
  });
});

describe('server errors and resets', () => {
  it('retries a 500 with backoff, then succeeds', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { retry: { baseDelayMs: 100 } });
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'serverError', status: 500 }, { count: 2 });
    assert.equal((await client.listSubscriptions(CONTOSO_TENANT)).length, 2);
    assert.deepEqual(fixture.arm.requests.map((record) => record.status), [500, 500, 200]);
    const [first, second] = gaps(fixture.arm.requests);
    assert.ok((first ?? 0) >= 80 && (second ?? 0) >= 160, `backed off ${first} ms, then ${second} ms`);
  });

  it('honours Retry-After on a 503', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'serverError', status: 503, retryAfter: 1 });
    await client.getCluster(idOf('aks-shop-prod'));
    assert.deepEqual(fixture.arm.requests.map((record) => record.status), [503, 200]);
    assert.ok((gaps(fixture.arm.requests)[0] ?? 0) >= 990);
  });

  it('reports a platform error once the retries are spent', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'serverError', status: 500 }, { count: 4 });
    await assert.rejects(client.getCluster(idOf('aks-shop-prod')), is('platformError', (error) => {
      assert.equal(error.code, 'InternalServerError');
      assert.equal(error.retryable, true);
      assert.ok(error.correlationId);
      assert.match(error.message, /had a problem on its side \(InternalServerError, HTTP 500, also after 3 retries\)\. Nothing needs to change on yours/);
    }));
    assert.equal(fixture.arm.requests.length, 4);
  });

  it('retries a reset connection', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    fixture.arm.resetStats();
    fixture.arm.controls.failNext({ kind: 'reset' });
    assert.match(await client.getClusterUserCredential(idOf('aks-shop-prod'), { format: 'exec' }), /kubelogin/);
    assert.deepEqual(fixture.arm.requests.map((record) => [record.method, record.status]), [['POST', 0], ['POST', 200]]);
  });
});

describe('no network', () => {
  it('names a refused connection plainly after retrying', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const { client, logger } = clientFor(fixture, await fixture.signIn(ALICE), { endpoint: `https://127.0.0.1:${port}`, retry: { maxAttempts: 3, baseDelayMs: 10 } });
    await assert.rejects(client.listTenants(), is('unreachable', (error) => {
      assert.equal(error.code, 'ECONNREFUSED');
      assert.equal(error.retryable, true);
      assert.equal(error.message, `Could not list your Azure tenants: cannot reach Azure Resource Manager at 127.0.0.1:${port} (the connection was refused, 3 attempts). Check the network connection or proxy, then try again.`);
    }));
    assert.equal(logger.lines.filter((line) => line.includes('ECONNREFUSED (attempt')).length, 3);
  });

  it('names an untrusted certificate and does not retry it', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { ca: [] });
    fixture.arm.resetStats();
    await assert.rejects(client.listTenants(), is('unreachable', (error) => {
      assert.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      assert.equal(error.retryable, false);
      assert.match(error.message, /presented a certificate this machine does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)\. If a proxy or firewall inspects HTTPS, add its CA/);
    }));
    assert.equal(fixture.arm.requests.length, 0);
  });

  it('gives up on an answer that does not come in time', async (t) => {
    fixture.arm.controls.latencyMs = 400;
    t.after(() => {
      fixture.arm.controls.latencyMs = 0;
    });
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), { requestTimeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 10 } });
    await assert.rejects(client.listTenants(), is('unreachable', (error) => {
      assert.equal(error.code, 'ETIMEDOUT');
      assert.match(error.message, /\(it did not answer in time, 2 attempts\)/);
    }));
  });
});

describe('claims challenges', () => {
  it('after a revoked session, fetches a token with the claims once and carries on', async (t) => {
    const signIn = await fixture.signIn(ALICE);
    const { client } = clientFor(fixture, signIn);
    await client.listSubscriptions(CONTOSO_TENANT);
    fixture.arm.controls.requireClaims(CONTOSO_TENANT, 'revokedSessions');
    t.after(() => fixture.arm.controls.requireClaims(CONTOSO_TENANT, undefined));
    fixture.arm.resetStats();
    const refreshesBefore = fixture.platform.requests.filter((request) => request.grantType === 'refresh_token').length;
    assert.equal((await client.listSubscriptions(CONTOSO_TENANT)).length, 2);
    assert.deepEqual(fixture.arm.requests.map((record) => record.status), [401, 200]);
    const withClaims = signIn.calls.filter((call) => call.claims !== undefined);
    assert.equal(withClaims.length, 1);
    assert.deepEqual(JSON.parse(withClaims[0]?.claims ?? '{}').access_token.xms_caeerror, { value: '10012' });
    assert.equal(fixture.platform.requests.filter((request) => request.grantType === 'refresh_token').length, refreshesBefore + 1, 'MSAL went to the identity platform');
    // The refreshed token is what MSAL's cache now serves, so the next request passes without a challenge.
    await client.listSubscriptions(CONTOSO_TENANT);
    assert.equal(fixture.arm.requests.at(-1)?.status, 200);
  });

  it('when the new token still does not satisfy the tenant (MFA step-up), hands the claims and tenant to the caller', async (t) => {
    const signIn = await fixture.signIn(ALICE);
    const { client } = clientFor(fixture, signIn);
    fixture.arm.controls.requireClaims(CONTOSO_TENANT, 'mfa');
    t.after(() => fixture.arm.controls.requireClaims(CONTOSO_TENANT, undefined));
    fixture.arm.resetStats();
    await assert.rejects(client.listSubscriptions(CONTOSO_TENANT), is('claimsChallenge', (error) => {
      assert.equal(error.tenantId, CONTOSO_TENANT);
      assert.deepEqual(JSON.parse(error.claims ?? '{}'), { access_token: { acrs: { essential: true, value: 'c1' } } });
      assert.equal(error.retryable, false);
      assert.match(error.message, /^Could not list the subscriptions of tenant 3f2a6c1e-[^:]+: tenant 3f2a6c1e-[^ ]+ asks you to sign in again \(insufficient_claims\), for example for multi-factor authentication/);
    }));
    assert.deepEqual(fixture.arm.requests.map((record) => record.status), [401, 401], 'one retry with the claims, no more');
  });

  it('when the sign-in layer cannot answer the claims without the person, says so with its reason', async (t) => {
    const signIn = await fixture.signIn(ALICE);
    const tokenFor: ArmTokenProvider = async (request) => {
      if (request.claims) throw Object.assign(new Error('Signing in again needs you: open the sign-in page.'), { code: 'interaction_required' });
      return signIn.tokenFor(request);
    };
    const { client } = clientFor(fixture, signIn, { tokenFor });
    fixture.arm.controls.requireClaims(CONTOSO_TENANT, 'mfa');
    t.after(() => fixture.arm.controls.requireClaims(CONTOSO_TENANT, undefined));
    await assert.rejects(client.listSubscriptions(CONTOSO_TENANT), is('claimsChallenge', (error) => {
      assert.equal(error.code, 'interaction_required');
      assert.ok(error.claims?.includes('acrs'));
      assert.match(error.message, /could not be done without you: Signing in again needs you: open the sign-in page\.$/);
    }));
  });
});

describe('tokens and tenants', () => {
  const fabrikamCluster = () => idOf('aks-fabrikam');

  it('retries once with a token for the tenant ARM names, and remembers it for the subscription', async () => {
    const alice = await fixture.signIn(ALICE);
    const carol = await fixture.signIn(CAROL);
    // Two accounts signed in: whichever the tenant calls for answers.
    const tokenFor: ArmTokenProvider = (request) => (request.tenantId?.toLowerCase() === FABRIKAM_TENANT ? carol.tokenFor(request) : alice.tokenFor(request));
    const { client } = clientFor(fixture, alice, { tokenFor });
    fixture.arm.resetStats();
    const cluster = await client.getCluster(fabrikamCluster());
    assert.equal(cluster.name, 'aks-fabrikam');
    assert.equal(cluster.tenantId, FABRIKAM_TENANT);
    assert.deepEqual(fixture.arm.requests.map((record) => [record.status, record.code, record.tid]), [
      [401, 'InvalidAuthenticationTokenTenant', CONTOSO_TENANT],
      [200, undefined, FABRIKAM_TENANT],
    ]);
    await client.getClusterUserCredential(fabrikamCluster());
    assert.equal(fixture.arm.requests.at(-1)?.tid, FABRIKAM_TENANT, 'asked with the right tenant straight away');
    assert.equal(fixture.arm.requests.length, 3);
  });

  it('says which tenant to sign in to when no token for it can be had', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE));
    await assert.rejects(client.getClusterUserCredential(fabrikamCluster()), is('wrongTenant', (error) => {
      assert.equal(error.tenantId, FABRIKAM_TENANT);
      assert.match(error.message, /^Could not get the user credentials of AKS cluster aks-fabrikam \(resource group rg-fabrikam, subscription 5d9e2a7c-[^)]+\): it belongs to tenant c9d4e8b2-[0-9a-f-]+, and no token for that tenant could be had: /);
    }));
  });

  it('a token ARM does not accept at all asks for a new sign-in', async () => {
    const notForArm = await fixture.signIn(ALICE, [`${'6dae42f8-4368-4678-94ff-3960e28e3630'}/.default`]);
    const { client } = clientFor(fixture, notForArm, { tokenFor: (request) => notForArm.tokenFor({ ...request, scopes: ['6dae42f8-4368-4678-94ff-3960e28e3630/.default'] }) });
    await assert.rejects(collect(client.listClusters(DEMO_SUBSCRIPTIONS.CONTOSO_PROD)), is('unauthenticated', (error) => {
      assert.equal(error.code, 'InvalidAuthenticationTokenAudience');
      assert.match(error.message, /Azure Resource Manager did not accept your sign-in \(InvalidAuthenticationTokenAudience\)\. Sign in to Azure again\.$/);
    }));
    const key = fixture.platform.signingKeys[0];
    assert.ok(key);
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ aud: 'https://management.core.windows.net/', iss: `${fixture.platform.url}/${CONTOSO_TENANT}/v2.0`, iat: now - 7200, nbf: now - 7200, exp: now - 3600, tid: CONTOSO_TENANT, oid: decodeClaims(notForArm.issued[0] ?? '').oid }, key);
    const stale = new ArmClient({ endpoint: fixture.arm.url, tokenFor: async () => expired, logger: new RecordingLogger(), ca: [testCa().caPem] });
    await assert.rejects(stale.listTenants(), is('unauthenticated', (error) => assert.equal(error.code, 'ExpiredAuthenticationToken')));
  });

  it('a sign-in layer that cannot supply a token passes its reason on', async () => {
    const { client } = clientFor(fixture, await fixture.signIn(ALICE), {
      tokenFor: async () => {
        throw Object.assign(new Error('The saved sign-in for alice@contoso.onmicrosoft.com is no longer valid (invalid_grant). Sign in again.'), { code: 'invalid_grant', retryable: false });
      },
    });
    await assert.rejects(client.listTenants(), is('unauthenticated', (error) => {
      assert.equal(error.code, 'invalid_grant');
      assert.equal(error.message, 'Could not list your Azure tenants: The saved sign-in for alice@contoso.onmicrosoft.com is no longer valid (invalid_grant). Sign in again.');
    }));
  });
});
