// The real Azure CLI (Debian's azure-cli 2.45) against the identity platform double, and what it prints
// for each case the product will meet when it spawns `az` for a token: signed in, a token for the AKS
// server app, the refresh path, not logged in, a tenant the account is not in, a tenant whose policy blocks
// device code, and no az at all. Every run is checked for outbound traffic, and the guard that checks it is
// itself shown to catch what would leave loopback. About a dozen az runs, each well under two seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyJwt } from '../../support/jwt';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../../support/identity-platform';
import {
  AZURE_CLI_CLIENT_ID,
  AzureCliError,
  AzureCliNotFound,
  createAzureCli,
  findAz,
  NOT_LOGGED_IN_MESSAGE,
  requireAz,
  type AzAccessToken,
  type AzureCli,
} from '../../support/azure-cli';
import { createTestCa } from '../../support/tls';

const ALICE = 'alice@contoso.onmicrosoft.com';
const AKS_SERVER = demo.AKS_SERVER_APP_ID;

const missing = findAz() === undefined;
// A green CI run must have run the real az; a developer without it gets a skip saying how to get it.
if (missing && process.env.CI) throw new Error('az is not installed; scripts/setup.sh installs Debian\'s azure-cli');
const skip = missing ? 'az is not installed (scripts/setup.sh installs azure-cli)' : false;

let dir: string;
let platform: IdentityPlatform;
let cli: AzureCli;

before(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'azure-cli-test-'));
  const ca = createTestCa(join(dir, 'ca'));
  platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem }, host: '127.0.0.2' });
  platform.controls.pollIntervalSeconds = 1;
  cli = await createAzureCli({ identityPlatform: platform, ca, dir: join(dir, 'az') });
});

after(async () => {
  if (missing) return;
  const total = cli.calls.reduce((sum, call) => sum + call.durationMs, 0);
  process.stdout.write(
    `az: ${cli.calls.length} runs, ${(total / 1000).toFixed(1)} s in all: ${cli.calls.map((call) => `${call.args.join(' ')} ${Math.round(call.durationMs)} ms`).join('; ')}\n`,
  );
  await cli.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokenRequests = () => platform.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token'));

/** `YYYY-MM-DD HH:MM:SS` of an epoch second in a time zone, the way Python's fromtimestamp prints it there. */
function localTime(epochSeconds: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(epochSeconds * 1000))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** az computes expires_on as its own clock plus expires_in, so it may differ from the JWT's exp by a second or two. */
function assertExpiresOnMatches(token: AzAccessToken, exp: number, timeZone: string): void {
  assert.match(token.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  const candidates = [-2, -1, 0, 1, 2].map((skew) => `${localTime(exp + skew, timeZone)}.000000`);
  assert.ok(candidates.includes(token.expiresOn), `expiresOn ${token.expiresOn} is exp ${exp} in ${timeZone} (${candidates[2]})`);
  assert.ok(!candidates.includes(`${localTime(exp, 'UTC')}.000000`) || timeZone === 'UTC', 'the printed time is local, not UTC');
}

describe('the Azure CLI against the identity platform double', { skip }, () => {
  test('not logged in: exit code 1 and one line on stderr', async () => {
    const result = await cli.run(['account', 'get-access-token', '--resource', AKS_SERVER, '-o', 'json']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `${NOT_LOGGED_IN_MESSAGE}\n`);
  });

  test('az login with a device code: the code az prints is approved on the device-login page', async () => {
    const before = platform.requests.length;
    const { accounts, result } = await cli.login(ALICE, { tenant: demo.CONTOSO_TENANT });
    assert.match(result.stderr, /^To sign in, use a web browser to open the page https:\/\/127\.0\.0\.2:\d+\/devicelogin and enter the code [A-Z]{9} to authenticate\.\n$/);
    assert.deepEqual(accounts, [
      {
        cloudName: cli.cloudName,
        id: demo.CONTOSO_TENANT,
        isDefault: true,
        name: 'N/A(tenant level account)',
        state: 'Enabled',
        tenantId: demo.CONTOSO_TENANT,
        user: { name: ALICE, type: 'user' },
      },
    ]);
    const sent = platform.requests.slice(before);
    assert.deepEqual(sent[0], { ...sent[0], method: 'GET', path: `/${demo.CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`, status: 200 });
    assert.ok(sent.some((request) => request.path.endsWith('/oauth2/v2.0/devicecode') && request.status === 200));
    assert.ok(sent.some((request) => request.grantType === 'urn:ietf:params:oauth:grant-type:device_code' && request.status === 200));
    const code = platform.deviceCodes().at(-1)!;
    assert.equal(code.clientId, AZURE_CLI_CLIENT_ID);
    assert.match(code.scope, /^https:\/\/management\.core\.windows\.net\/\/\.default /, 'the login token is for ARM');
    assert.deepEqual(cli.armRequests, [{ method: 'GET', path: '/subscriptions', status: 200 }]);
  });

  test('a token for the AKS server app, then again after it expired: both from the refresh token, expiresOn in local time', async () => {
    // MSAL Python treats a token with less than five minutes left as expired, so a 120-second one is
    // refreshed on the next call: the refresh path without waiting an hour.
    platform.controls.tokenLifetimeSeconds = 120;
    try {
      const refreshes = () => tokenRequests().filter((request) => request.grantType === 'refresh_token' && request.status === 200).length;
      const keys = new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey]));
      const seen: string[] = [];
      for (const timeZone of ['America/New_York', 'Asia/Kolkata']) {
        const refreshesBefore = refreshes();
        const token = await cli.getAccessToken({ resource: AKS_SERVER, env: { TZ: timeZone } });
        assert.deepEqual(Object.keys(token).sort(), ['accessToken', 'expiresOn', 'subscription', 'tenant', 'tokenType'], 'the exact shape az 2.45 prints');
        assert.equal(token.tokenType, 'Bearer');
        assert.equal(token.tenant, demo.CONTOSO_TENANT);
        assert.equal(token.subscription, demo.CONTOSO_TENANT, 'a tenant-level account names its tenant as the subscription');
        const access = verifyJwt(token.accessToken, keys);
        assert.ok(access.ok, access.ok ? '' : access.reason);
        assert.equal(access.claims.aud, AKS_SERVER);
        assert.equal(access.claims.azp, AZURE_CLI_CLIENT_ID);
        assert.equal(access.claims.appid, AZURE_CLI_CLIENT_ID);
        assert.equal(access.claims.upn, ALICE);
        assertExpiresOnMatches(token, Number(access.claims.exp), timeZone);
        assert.equal(refreshes(), refreshesBefore + 1, `the ${timeZone} call redeemed the refresh token`);
        seen.push(token.accessToken);
      }
      assert.notEqual(seen[0], seen[1], 'the expired token was replaced, not served from the cache');
    } finally {
      platform.controls.tokenLifetimeSeconds = 3600;
    }
  });

  test('a tenant the account is not in: AADSTS50020 and the az login command to run', async () => {
    await assert.rejects(cli.getAccessToken({ resource: AKS_SERVER, tenant: demo.FABRIKAM_TENANT }), (error: unknown) => {
      assert.ok(error instanceof AzureCliError);
      assert.equal(error.result.code, 1);
      assert.equal(error.result.stdout, '');
      assert.match(
        error.result.stderr,
        new RegExp(
          `^ERROR: AADSTS50020: User account '${ALICE}' from identity provider does not exist in tenant and cannot access the application\\. Trace ID: [\\w-]+ Correlation ID: [\\w-]+ Timestamp: [\\d-]+ [\\d:]+Z\\n` +
            `Interactive authentication is needed\\. Please run:\\naz login --scope ${AKS_SERVER}/\\.default\\n$`,
        ),
      );
      return true;
    });
    assert.equal(tokenRequests().at(-1)?.path, `/${demo.FABRIKAM_TENANT}/oauth2/v2.0/token`);
  });

  test('az logout, after which a token is "not logged in" again', async () => {
    await cli.logout();
    const result = await cli.run(['account', 'get-access-token', '--resource', AKS_SERVER, '-o', 'json']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `${NOT_LOGGED_IN_MESSAGE}\n`);
  });

  test('a tenant whose Conditional Access blocks device code: approved on the page, then AADSTS53003', async () => {
    // A domain name, which az resolves to the tenant id through the v1 OpenID document first.
    await assert.rejects(cli.login('nina@northwind.onmicrosoft.com', { tenant: 'northwind.onmicrosoft.com' }), (error: unknown) => {
      assert.ok(error instanceof AzureCliError);
      assert.equal(error.result.code, 1);
      assert.match(
        error.result.stderr,
        /\nERROR: AADSTS53003: Access has been blocked by Conditional Access policies\. The access policy does not allow token issuance\. Trace ID: [\w-]+ Correlation ID: [\w-]+ Timestamp: [\d-]+ [\d:]+Z\nInteractive authentication is needed\. Please run:\naz login\n$/,
      );
      return true;
    });
    assert.equal(platform.deviceCodes().at(-1)?.state, 'approved');
    assert.ok(platform.requests.some((request) => request.path === '/northwind.onmicrosoft.com/.well-known/openid-configuration' && request.status === 200));
  });

  test('nothing az ran above left loopback', () => {
    assert.deepEqual(cli.egressAttempts(), []);
  });
});

describe('the guard around az', { skip }, () => {
  const python = (code: string) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile('/usr/bin/python3', ['-c', code], { env: cli.env(), timeout: 20_000 }, (error, _stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr });
      });
    });

  test('catches a request to a public host, a connection to a public address and a lookup of a public name', async () => {
    const request = await python("import requests; requests.head('https://login.microsoftonline.com/common/discovery/instance', timeout=5)");
    assert.notEqual(request.code, 0);
    const socket = await python("import socket; socket.create_connection(('192.0.2.10', 443), timeout=5)");
    assert.notEqual(socket.code, 0);
    assert.match(socket.stderr, /refused by the test profile: only loopback is reachable \(connect 192\.0\.2\.10:443\)/);
    const lookup = await python("import socket; socket.getaddrinfo('example.org', 443)");
    assert.notEqual(lookup.code, 0);
    assert.deepEqual(cli.egressAttempts(), ['proxy login.microsoftonline.com:443', 'connect 192.0.2.10:443', 'lookup example.org']);
  });

  test('catches az itself when MSAL Python is left to ask login.microsoftonline.com about the authority', async () => {
    const before = cli.egressAttempts();
    const result = await cli.run(['login', '--use-device-code', '--allow-no-subscriptions', '--tenant', demo.CONTOSO_TENANT], {
      env: { AKS_SIGNIN_AZ_INSTANCE_DISCOVERY: '1' },
    });
    assert.notEqual(result.code, 0);
    const added = [...cli.egressAttempts()];
    for (const attempt of before) added.splice(added.indexOf(attempt), 1);
    assert.ok(added.length > 0, 'the attempt was caught');
    // MSAL Python's HTTP client may try the same CONNECT more than once before giving up.
    assert.deepEqual([...new Set(added)], ['proxy login.microsoftonline.com:443']);
    assert.doesNotMatch(result.stderr, /enter the code/, 'it never got as far as the double');
  });
});

describe('without az', () => {
  test('findAz finds nothing on a PATH without it, requireAz says how to install it, and spawning az is ENOENT', async () => {
    const path = '/nonexistent-bin:/also-missing';
    assert.equal(findAz(path), undefined);
    assert.throws(() => requireAz(path), (error: unknown) => {
      assert.ok(error instanceof AzureCliNotFound);
      assert.equal(error.message, 'The Azure CLI (az) was not found on PATH (/nonexistent-bin:/also-missing). Install it, e.g. "apt-get install azure-cli" on Debian.');
      return true;
    });
    // What the product sees when it spawns `az` where there is none.
    const failure = await new Promise<NodeJS.ErrnoException>((resolve) => {
      spawn('az', ['account', 'get-access-token'], { env: { PATH: path } }).once('error', resolve);
    });
    assert.equal(failure.code, 'ENOENT');
    assert.equal(failure.message, 'spawn az ENOENT');
  });
});
