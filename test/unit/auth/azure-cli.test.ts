// The Azure CLI sign-in method. First without az: how both shapes of az's answer are read (the local-time
// `expiresOn` of 2.45 across time zones and DST changes, and the newer `expires_on`), what each of az's
// failures means, and how az is started (through a recording stand-in for what real az cannot show: its
// arguments, environment and stdin, a hang). Then with Debian's real az (2.45) signed in to the identity
// platform double, offline: 13 az runs in all (3 to set up and sign in), through the method, the session
// service and the keeper.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '../../../src/core/auth';
import {
  azureCliArguments,
  AzureCliAuthError,
  azureCliFailure,
  azureCliMethod,
  azureCliOnPath,
  parseAzLocalTime,
  readAzAccessToken,
  tokenResultOf,
} from '../../../src/core/auth/azure-cli';
import { autoMethod, signInMethodIds, type SignInUi } from '../../../src/core/auth/methods';
import type { AuthTarget } from '../../../src/core/auth/types';
import { tokenFingerprint } from '../../../src/core/kubeconfig';
import { TokenKeeper } from '../../../src/core/keeper';
import { systemClock } from '../../../src/core/ports';
import { SessionRecordStore } from '../../../src/core/session/records';
import { SessionService } from '../../../src/core/session/service';
import { recordingLogger, tokenInKubeconfig } from '../../faults/session-harness';
import { startApiServer, type ApiServer } from '../../support/apiserver';
import { createAzureCli, findAz, type AzureCli } from '../../support/azure-cli';
import { demo, startIdentityPlatform, type IdentityPlatform } from '../../support/identity-platform';
import { azNames, azSkeleton } from '../../support/kubeconfig-fixtures';
import { createTestCa, type TestCa } from '../../support/tls';
import { waitFor } from '../../support/wait-for';

const ALICE = 'alice@contoso.onmicrosoft.com';
const ALICE_OID = demo.defaultUsers().find((user) => user.username === ALICE)!.oid;
const AKS_SERVER = demo.AKS_SERVER_APP_ID;
/** A cluster of the older AAD integration: its own server app, addressed as `spn:<id>` by config-mode 0. */
const CUSTOM_SERVER = 'a4e7c2d1-5b3f-4e8a-9c6d-1f2e3a4b5c6d';

const targetFor = (extra: Partial<AuthTarget> = {}): AuthTarget => ({
  environment: 'AzurePublicCloud',
  tenantId: demo.CONTOSO_TENANT,
  clientId: demo.AKS_CLIENT_APP_ID,
  serverId: AKS_SERVER,
  ...extra,
});

/** A JWT-shaped string with these claims; nothing here verifies signatures. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** `YYYY-MM-DD HH:MM:SS.000000` of an instant in a zone, the way Python's fromtimestamp prints it there. */
function pythonLocalTime(epochMs: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(epochMs))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.000000`;
}

/** Runs `body` with this process's local time zone set to `timeZone` (Node applies a changed TZ at once). */
async function inTimeZone<T>(timeZone: string | undefined, body: () => T | Promise<T>): Promise<T> {
  const saved = process.env.TZ;
  if (timeZone === undefined) delete process.env.TZ;
  else process.env.TZ = timeZone;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

describe('reading what az account get-access-token prints', () => {
  // 2024-11-03 05:30:00Z, 01:30 EDT in New York: an hour before the clocks there go back to 01:00 EST.
  const beforeFallBack = Date.UTC(2024, 10, 3, 5, 30);
  const jwtExpiring = (epochMs: number) => unsignedJwt({ exp: epochMs / 1000, oid: ALICE_OID, tid: demo.CONTOSO_TENANT, upn: ALICE });
  /** What az 2.45 prints: only the local `expiresOn`. */
  const shape245 = (epochMs: number, timeZone: string) =>
    JSON.stringify({ accessToken: jwtExpiring(epochMs), expiresOn: pythonLocalTime(epochMs, timeZone), subscription: demo.CONTOSO_TENANT, tenant: demo.CONTOSO_TENANT, tokenType: 'Bearer' }, null, 2);

  test('2.45 (expiresOn only) is read as local time in UTC, New York and Kolkata, and only the right zone gives the instant', async () => {
    const expiry = Date.UTC(2026, 11, 2, 14, 7, 31);
    for (const timeZone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      const reading = await inTimeZone(timeZone, () => readAzAccessToken(shape245(expiry, timeZone)));
      assert.equal(reading.azExpirySource, 'expiresOn');
      assert.equal(reading.azExpiresOn?.toISOString(), new Date(expiry).toISOString(), timeZone);
      assert.equal(reading.expiresOn.getTime(), expiry);
    }
    // The same text read in the wrong zone is hours off: the zone really is what decides.
    const misread = await inTimeZone('UTC', () => parseAzLocalTime(pythonLocalTime(expiry, 'Asia/Kolkata')));
    assert.equal(misread?.getTime(), expiry + 5.5 * 3600_000);
  });

  test('the newer shape\'s expires_on (epoch seconds, as a number or a string) decides over expiresOn', async () => {
    const exp = Date.UTC(2026, 11, 2, 14, 7, 31);
    const azSays = exp - 1000;
    for (const expiresOnField of [azSays / 1000, String(azSays / 1000)]) {
      const stdout = JSON.stringify({ accessToken: jwtExpiring(exp), expiresOn: '1999-01-01 00:00:00.000000', expires_on: expiresOnField, subscription: 's', tenant: 't', tokenType: 'Bearer' });
      const reading = await inTimeZone('Asia/Kolkata', () => readAzAccessToken(stdout));
      assert.equal(reading.azExpirySource, 'expires_on');
      assert.equal(reading.azExpiresOn?.getTime(), azSays);
      assert.equal(reading.exp?.getTime(), exp);
      assert.equal(reading.expiresOn.getTime(), azSays, 'the earlier of the two');
    }
  });

  test('the token is kept by the earlier of az\'s expiry and its exp', () => {
    const exp = Date.UTC(2026, 11, 2, 14, 0, 0);
    const later = JSON.stringify({ accessToken: jwtExpiring(exp), expires_on: exp / 1000 + 3600 });
    assert.equal(readAzAccessToken(later).expiresOn.getTime(), exp);
    const earlier = JSON.stringify({ accessToken: jwtExpiring(exp), expires_on: exp / 1000 - 60 });
    assert.equal(readAzAccessToken(earlier).expiresOn.getTime(), exp - 60_000);
    const noExp = JSON.stringify({ accessToken: unsignedJwt({ oid: 'o', tid: 't' }), expires_on: exp / 1000 });
    assert.equal(readAzAccessToken(noExp).expiresOn.getTime(), exp);
  });

  test('an hour a DST change repeats reads as the instant nearer the token\'s exp, else the earlier', async () => {
    await inTimeZone('America/New_York', () => {
      const firstPass = beforeFallBack;
      const secondPass = beforeFallBack + 3600_000;
      assert.equal(pythonLocalTime(firstPass, 'America/New_York'), pythonLocalTime(secondPass, 'America/New_York'), 'both print 01:30');
      const printed = pythonLocalTime(secondPass, 'America/New_York');
      assert.equal(parseAzLocalTime(printed)?.getTime(), firstPass);
      assert.equal(parseAzLocalTime(printed, secondPass + 1000)?.getTime(), secondPass);
      assert.equal(parseAzLocalTime(printed, firstPass - 1000)?.getTime(), firstPass);
      // Through the whole reading, the token's own exp picks the second 01:30.
      const reading = readAzAccessToken(JSON.stringify({ accessToken: jwtExpiring(secondPass + 1000), expiresOn: printed }));
      assert.equal(reading.azExpiresOn?.getTime(), secondPass);
      assert.equal(reading.expiresOn.getTime(), secondPass);
    });
  });

  test('an hour a DST change skips reads as the earlier candidate; a zone without DST is one reading', async () => {
    // 2024-03-10: New York goes from 01:59:59 EST to 03:00 EDT; 02:30 never happens there.
    await inTimeZone('America/New_York', () => {
      assert.equal(parseAzLocalTime('2024-03-10 02:30:00.000000')?.toISOString(), '2024-03-10T06:30:00.000Z');
      assert.equal(parseAzLocalTime('2024-03-10 01:59:59.000000')?.toISOString(), '2024-03-10T06:59:59.000Z');
      assert.equal(parseAzLocalTime('2024-03-10 03:00:00.000000')?.toISOString(), '2024-03-10T07:00:00.000Z');
    });
    await inTimeZone('Asia/Kolkata', () => {
      assert.equal(parseAzLocalTime('2024-11-03 01:30:00.000000')?.toISOString(), '2024-11-02T20:00:00.000Z');
    });
  });

  test('fractional seconds are kept to the millisecond, and impossible times are no time', async () => {
    await inTimeZone('UTC', () => {
      assert.equal(parseAzLocalTime('2026-12-02 14:07:31.999999')?.toISOString(), '2026-12-02T14:07:31.999Z');
      assert.equal(parseAzLocalTime('2026-12-02 14:07:31.5')?.toISOString(), '2026-12-02T14:07:31.500Z');
      assert.equal(parseAzLocalTime('2026-12-02 14:07:31')?.toISOString(), '2026-12-02T14:07:31.000Z');
      for (const impossible of ['2026-02-30 10:00:00.000000', '2026-12-02 24:00:00', '2026-12-02T14:07:31Z', 'soon', '']) {
        assert.equal(parseAzLocalTime(impossible), undefined, impossible);
      }
    });
  });

  test('output that is not a token is a platform error that repeats none of it', () => {
    const secret = unsignedJwt({ exp: 1 });
    const cases: Array<[string, RegExp]> = [
      [`not json ${secret}`, /not JSON/],
      ['[]', /not a JSON object/],
      [JSON.stringify({ expiresOn: '2026-12-02 14:07:31.000000' }), /no accessToken/],
      [JSON.stringify({ accessToken: 'opaque-token-value' }), /not a JWT/],
      [JSON.stringify({ accessToken: unsignedJwt({ oid: 'o' }), expiresOn: 'later' }), /neither its answer nor the token says when/],
    ];
    for (const [stdout, why] of cases) {
      assert.throws(() => readAzAccessToken(stdout), (error: unknown) => {
        assert.ok(error instanceof AuthError);
        assert.deepEqual([error.kind, error.code, error.retryable, error.remedy.kind], ['platformError', 'az_output_unreadable', false, 'signInAgain']);
        assert.match(error.message, why);
        assert.doesNotMatch(error.message, /eyJ|opaque-token-value/);
        return true;
      });
    }
  });

  test('the account is whoever the token names: a user, or a service principal by its app id', () => {
    const exp = Date.now() + 3600_000;
    const user = tokenResultOf(readAzAccessToken(JSON.stringify({ accessToken: unsignedJwt({ exp: exp / 1000, oid: 'o1', tid: 't1', preferred_username: 'bo@x', name: 'Bo' }) })));
    assert.deepEqual(user.account, { homeAccountId: 'o1.t1', username: 'bo@x', tenantId: 't1', name: 'Bo' });
    assert.equal(user.refreshToken, undefined, 'az keeps its refresh token');
    const principal = tokenResultOf(readAzAccessToken(JSON.stringify({ accessToken: unsignedJwt({ exp: exp / 1000, oid: 'o2', tid: 't2', appid: 'app-2' }) })));
    assert.equal(principal.account.username, 'app-2');
    assert.throws(() => tokenResultOf(readAzAccessToken(JSON.stringify({ accessToken: unsignedJwt({ exp: exp / 1000, tid: 't' }) }))), /no oid or tid/);
  });
});

describe('what a failed az means', () => {
  // What az 2.45 printed against the identity platform double (trace ids shortened, tracebacks cut).
  const TRACE = 'Trace ID: 82028014-863d-4cc8-b864-c600603c0efe Correlation ID: 5eaa58d8-b998-48b3-a768-d0720667802e Timestamp: 2026-12-02 01:01:19Z';
  const printed = {
    notLoggedIn: "ERROR: Please run 'az login' to setup account.\n",
    notInTenant: `ERROR: AADSTS50020: User account '${ALICE}' from identity provider does not exist in tenant and cannot access the application. ${TRACE}\nInteractive authentication is needed. Please run:\naz login --scope ${AKS_SERVER}/.default\n`,
    blocked: `ERROR: AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. ${TRACE}\nInteractive authentication is needed. Please run:\naz login --scope ${AKS_SERVER}/.default\n`,
    mfa: `ERROR: AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${AKS_SERVER}'. ${TRACE}\nInteractive authentication is needed. Please run:\naz login --scope ${AKS_SERVER}/.default\n`,
    expiredByInactivity: `ERROR: AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. ${TRACE}\nInteractive authentication is needed. Please run:\naz login --scope ${AKS_SERVER}/.default\n`,
    claimsChallenge: `ERROR: Token was revoked.\nInteractive authentication is needed. Please run:\naz logout\naz login --scope ${AKS_SERVER}/.default\n`,
    unavailable: 'ERROR: 503 Server Error: Service Unavailable for url: https://127.0.0.2:36997/3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10/oauth2/v2.0/token\n',
    refused:
      "ERROR: The command failed with an unexpected error. Here is the traceback:\nERROR: HTTPSConnectionPool(host='127.0.0.2', port=36997): Max retries exceeded with url: /3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10/v2.0/.well-known/openid-configuration (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f54636b3310>: Failed to establish a new connection: [Errno 111] Connection refused'))\nTraceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/urllib3/connection.py\", line 174, in _new_conn\n",
    unknownTenant:
      'ERROR: The command failed with an unexpected error. Here is the traceback:\nERROR: Unable to get authority configuration for https://127.0.0.2:38841/11111111-2222-3333-4444-555555555555. Authority would typically be in a format of https://login.microsoftonline.com/your_tenant Also please double check your tenant name or GUID is correct.\nTraceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/msal/authority.py", line 120, in __init__\nValueError: OIDC Discovery endpoint rejects our request. Error: {"error":"invalid_tenant","error_description":"AADSTS90002: Tenant \'11111111-2222-3333-4444-555555555555\' not found."}\n',
  };

  const failure = (stderr: string, target = targetFor()) => azureCliFailure(stderr, target, 1);
  const summary = (error: AzureCliAuthError) => ({ kind: error.kind, code: error.code, retryable: error.retryable, remedy: error.remedy.kind, command: error.command });

  test('not logged in: run az login for this tenant', () => {
    const error = failure(printed.notLoggedIn);
    assert.deepEqual(summary(error), { kind: 'notSignedIn', code: 'az_not_logged_in', retryable: false, remedy: 'signInAgain', command: `az login --tenant ${demo.CONTOSO_TENANT}` });
    assert.equal(error.message, `The Azure CLI is not signed in. Run \`az login --tenant ${demo.CONTOSO_TENANT}\` in a terminal, then sign in here again.`);
    // An entry with no tenant (organizations) needs no --tenant.
    assert.equal(failure(printed.notLoggedIn, targetFor({ tenantId: undefined })).command, 'az login');
  });

  test('AADSTS codes go through the MSAL methods\' table, each message ending with the az command that fixes it', () => {
    const notInTenant = failure(printed.notInTenant);
    assert.deepEqual(summary(notInTenant), { kind: 'notInTenant', code: 'AADSTS50020', retryable: false, remedy: 'signInAgain', command: `az login --tenant ${demo.CONTOSO_TENANT}` });
    assert.match(notInTenant.message, new RegExp(`^The account ${ALICE} is not a member of the tenant "${demo.CONTOSO_TENANT}".* run \`az login --tenant ${demo.CONTOSO_TENANT}\` in a terminal`));

    const mfa = failure(printed.mfa);
    assert.deepEqual(summary(mfa), { kind: 'interactionRequired', code: 'AADSTS50076', retryable: false, remedy: 'signInAgain', command: `az login --tenant ${demo.CONTOSO_TENANT} --scope ${AKS_SERVER}/.default` });
    assert.match(mfa.message, /multi-factor authentication/);

    const blocked = failure(printed.blocked);
    assert.deepEqual([blocked.kind, blocked.code, blocked.remedy.kind], ['blocked', 'AADSTS53003', 'askAdmin']);
    assert.match(blocked.message, /Conditional Access/);
  });

  test('an AADSTS code the table does not know, or no code at all: az\'s own advice, with the tenant', () => {
    const unknown = failure(printed.expiredByInactivity);
    assert.deepEqual(summary(unknown), { kind: 'interactionRequired', code: 'AADSTS70008', retryable: false, remedy: 'signInAgain', command: `az login --tenant ${demo.CONTOSO_TENANT} --scope ${AKS_SERVER}/.default` });
    assert.match(unknown.message, /\(AADSTS70008: The provided authorization code or refresh token has expired due to inactivity\. Send a new interactive authorization request for this user and resource\.\)/);
    assert.doesNotMatch(unknown.message, /Trace ID/);
    const challenge = failure(printed.claimsChallenge);
    assert.deepEqual(summary(challenge), { kind: 'interactionRequired', code: 'az_interaction_required', retryable: false, remedy: 'signInAgain', command: `az logout, then az login --tenant ${demo.CONTOSO_TENANT} --scope ${AKS_SERVER}/.default` });
  });

  test('a 5xx and a refused connection are retried; an unknown tenant is the entry\'s to fix', () => {
    const unavailable = failure(printed.unavailable);
    assert.deepEqual(summary(unavailable), { kind: 'platformError', code: 'HTTP 503', retryable: true, remedy: 'wait', command: undefined });
    assert.match(unavailable.message, /at 127\.0\.0\.2:36997 had a temporary problem/);
    const refused = failure(printed.refused);
    assert.deepEqual(summary(refused), { kind: 'unreachable', code: 'ECONNREFUSED', retryable: true, remedy: 'wait', command: undefined });
    assert.match(refused.message, /cannot reach the sign-in service at 127\.0\.0\.2:36997/);
    assert.doesNotMatch(refused.message, /Traceback|urllib3/);
    const tenant = failure(printed.unknownTenant, targetFor({ tenantId: '11111111-2222-3333-4444-555555555555' }));
    assert.deepEqual(summary(tenant), { kind: 'badTenant', code: 'AADSTS90002', retryable: false, remedy: 'fixSetting', command: undefined });
    assert.match(tenant.message, /was not found at 127\.0\.0\.2:38841/);
  });

  test('anything else says what az said, redacted, and how to see more', () => {
    const token = unsignedJwt({ exp: 1, oid: 'o' });
    const error = failure(`ERROR: something new went wrong near ${token}\n`);
    assert.deepEqual(summary(error), { kind: 'platformError', code: 'az_failed', retryable: false, remedy: 'signInAgain', command: undefined });
    assert.match(error.message, /^The Azure CLI could not get a token \(exit code 1: something new went wrong near \[redacted token\]\)\. Run `az account get-access-token --resource 6dae42f8-4368-4678-94ff-3960e28e3630 --tenant 3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10 -o json` in a terminal/);
    assert.doesNotMatch(error.message, /eyJ/);
  });

  test('config-mode 0 asks for the bare server id; a multi-tenant authority passes no --tenant; odd values never reach az', () => {
    assert.deepEqual(azureCliArguments(targetFor({ serverId: CUSTOM_SERVER, configMode: '0' })), ['account', 'get-access-token', '--resource', CUSTOM_SERVER, '--tenant', demo.CONTOSO_TENANT, '-o', 'json']);
    assert.deepEqual(azureCliArguments(targetFor({ serverId: `spn:${CUSTOM_SERVER}/.default` })).slice(2, 4), ['--resource', CUSTOM_SERVER]);
    for (const tenantId of [undefined, 'organizations', 'common', ' ']) assert.ok(!azureCliArguments(targetFor({ tenantId })).includes('--tenant'), String(tenantId));
    assert.deepEqual(azureCliArguments(targetFor({ tenantId: 'contoso.onmicrosoft.com' })).slice(4, 6), ['--tenant', 'contoso.onmicrosoft.com']);
    assert.throws(() => azureCliArguments(targetFor({ tenantId: '--debug' })), (error: unknown) => error instanceof AuthError && error.kind === 'badTenant' && error.remedy.kind === 'fixSetting');
    assert.throws(() => azureCliArguments(targetFor({ serverId: '-x; rm -rf /' })), (error: unknown) => error instanceof AuthError && error.kind === 'serverAppMissing');
  });
});

describe('how az is started', () => {
  let dir: string;
  let stub: string;
  const logged: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aks-azure-cli-stub-'));
    stub = join(dir, 'az');
    // Records what it was started with, answers only once its stdin has ended (so an open stdin hangs it).
    writeFileSync(
      stub,
      `#!${process.execPath}
const fs = require('node:fs');
let input = '';
process.stdin.setEncoding('utf8').on('data', (chunk) => (input += chunk)).on('end', () => {
  const pick = (names) => Object.fromEntries(names.map((name) => [name, process.env[name]]));
  fs.writeFileSync(process.env.STUB_RECORD, JSON.stringify({ argv: process.argv.slice(2), input, pid: process.pid,
    env: pick(['AZURE_CORE_NO_COLOR', 'AZURE_CORE_ONLY_SHOW_ERRORS', 'AZURE_CORE_COLLECT_TELEMETRY', 'AZURE_CORE_DISABLE_CONFIRM_PROMPT', 'AZURE_CONFIG_DIR']) }));
  if (process.env.STUB_MODE === 'hang') return setInterval(() => undefined, 1000);
  process.stderr.write(process.env.STUB_STDERR ?? '');
  process.stdout.write(process.env.STUB_STDOUT ?? '');
  process.exitCode = Number(process.env.STUB_EXIT ?? 0);
});
`,
    );
    chmodSync(stub, 0o755);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const record = () => JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as { argv: string[]; input: string; pid: number; env: Record<string, string | undefined> };
  const methodWith = (env: Record<string, string>, options: { az?: string; timeoutMs?: number } = {}) =>
    azureCliMethod({ az: options.az ?? stub, env: () => ({ PATH: process.env.PATH, AZURE_CONFIG_DIR: '/profile/of/the/person', STUB_RECORD: join(dir, 'record.json'), ...env }), logger: recordingLogger(logged), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
  const noUi: SignInUi = {
    showDeviceCode: () => assert.fail('the Azure CLI method showed a device code'),
    openBrowser: async () => assert.fail('the Azure CLI method opened a browser'),
  };

  test('the newer output shape through the method: arguments, environment, stdin closed, the earlier expiry', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const accessToken = unsignedJwt({ exp, oid: ALICE_OID, tid: demo.CONTOSO_TENANT, upn: ALICE });
    const stdout = JSON.stringify({ accessToken, expiresOn: '1999-01-01 00:00:00.000000', expires_on: exp - 2, subscription: 's', tenant: demo.CONTOSO_TENANT, tokenType: 'Bearer' });
    const token = await methodWith({ STUB_STDOUT: stdout }).acquire(targetFor({ serverId: CUSTOM_SERVER, configMode: '0' }), noUi);
    assert.equal(tokenFingerprint(token.accessToken), tokenFingerprint(accessToken));
    assert.equal(token.expiresOn.getTime(), (exp - 2) * 1000);
    assert.deepEqual(token.account, { homeAccountId: `${ALICE_OID}.${demo.CONTOSO_TENANT}`, username: ALICE, tenantId: demo.CONTOSO_TENANT });
    const seen = record();
    assert.deepEqual(seen.argv, ['account', 'get-access-token', '--resource', CUSTOM_SERVER, '--tenant', demo.CONTOSO_TENANT, '-o', 'json']);
    assert.equal(seen.input, '', 'stdin was closed without input');
    assert.deepEqual(seen.env, { AZURE_CORE_NO_COLOR: 'true', AZURE_CORE_ONLY_SHOW_ERRORS: 'true', AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_DISABLE_CONFIRM_PROMPT: 'true', AZURE_CONFIG_DIR: '/profile/of/the/person' });
    assert.ok(logged.every((line) => !line.includes(accessToken) && !/eyJ/.test(line)), 'no token in the log');
  });

  test('az that does not answer in time is stopped: unreachable, retried', async () => {
    const started = Date.now();
    await assert.rejects(methodWith({ STUB_MODE: 'hang' }, { timeoutMs: 1500 }).acquireSilent(targetFor(), 'x.y', { forceRefresh: true }), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.deepEqual([error.kind, error.code, error.retryable, error.remedy.kind], ['unreachable', 'ETIMEDOUT', true, 'wait']);
      assert.match(error.message, /did not answer within 2 s/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    const { pid } = record();
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 3000, 'the stopped az process to be gone');
  });

  test('a cancelled sign-in stops az', async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 300);
    await assert.rejects(methodWith({ STUB_MODE: 'hang' }).acquire(targetFor(), noUi, cancel.signal), (error: unknown) => error instanceof AuthError && error.kind === 'cancelled');
  });

  test('an exit code with az\'s message is read like real az\'s', async () => {
    await assert.rejects(methodWith({ STUB_STDERR: "ERROR: Please run 'az login' to setup account.\n", STUB_EXIT: '1' }).acquire(targetFor(), noUi), (error: unknown) => {
      assert.ok(error instanceof AzureCliAuthError);
      assert.equal(error.kind, 'notSignedIn');
      return true;
    });
    await assert.rejects(methodWith({ STUB_STDOUT: '{"accessToken": ' }).acquire(targetFor(), noUi), (error: unknown) => error instanceof AuthError && error.code === 'az_output_unreadable');
  });

  test('no az: a bad path or a PATH without it says to install it or pick another method', async () => {
    const missing = join(dir, 'no-such-az');
    for (const [az, where] of [
      [missing, `at ${missing}`],
      ['az', 'on the PATH that VS Code sees'],
    ] as const) {
      const method = azureCliMethod({ az, env: () => ({ PATH: join(dir, 'empty-bin') }), logger: recordingLogger(logged) });
      await assert.rejects(method.acquire(targetFor(), noUi), (error: unknown) => {
        assert.ok(error instanceof AuthError);
        assert.deepEqual([error.kind, error.code, error.retryable, error.remedy.kind], ['platformError', 'az_not_found', false, 'fixSetting']);
        assert.equal(error.message, `The Azure CLI (az) was not found ${where}. Install the Azure CLI and run \`az login\`, or choose another sign-in method in the setting aksSignIn.signInMethod.`);
        return true;
      });
    }
    assert.equal(azureCliOnPath({ PATH: `${join(dir, 'empty-bin')}:/nonexistent` }), undefined);
    assert.equal(azureCliOnPath({ PATH: `/nonexistent:${dir}` }), stub);
  });

  test('the method is what the quick pick and the session expect, and signing out leaves az alone', async () => {
    const method = methodWith({ STUB_MODE: 'hang' });
    assert.deepEqual([method.id, method.store, method.label], ['azureCli', 'azureCli', 'Azure CLI']);
    assert.match(method.detail, /az login/);
    rmSync(join(dir, 'record.json'), { force: true });
    await method.signOut(targetFor(), 'x.y');
    assert.ok(!existsSync(join(dir, 'record.json')), 'sign-out started no az command');
  });
});

// ---------------------------------------------------------------------------------------------------------

const azMissing = findAz() === undefined;
if (azMissing && process.env.CI) throw new Error("az is not installed; scripts/setup.sh installs Debian's azure-cli");

describe('with the real Azure CLI', { skip: azMissing ? 'az is not installed (scripts/setup.sh installs azure-cli)' : false }, () => {
  let dir: string;
  let ca: TestCa;
  let platform: IdentityPlatform;
  let cli: AzureCli;
  let api: ApiServer;
  const lines: string[] = [];
  let method: ReturnType<typeof azureCliMethod>;
  let last: string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aks-azure-cli-method-'));
    ca = createTestCa(join(dir, 'ca'));
    platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem }, host: '127.0.0.2' });
    platform.controls.pollIntervalSeconds = 1;
    cli = await createAzureCli({ identityPlatform: platform, ca, dir: join(dir, 'az') });
    // Only the bare app ids: a token asked for as spn:<id> would have to come back with the bare audience.
    api = await startApiServer({ tls: ca.serverCertificate, trustedKeys: () => new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey])), audiences: [AKS_SERVER, CUSTOM_SERVER] });
    // `az` found on the PATH of the profile's environment, as the extension finds the person's.
    method = azureCliMethod({ env: () => cli.env(), logger: recordingLogger(lines) });
  });

  after(async () => {
    const total = cli.calls.reduce((sum, call) => sum + call.durationMs, 0);
    const runs = lines.filter((line) => /^az account get-access-token .*: exit code \d+ after \d+ ms\.$/.test(line));
    process.stdout.write(`az: ${cli.calls.length} harness runs (${(total / 1000).toFixed(1)} s) and ${runs.length} through the method: ${runs.map((line) => line.replace(/^.*: /, '')).join('; ')}\n`);
    await api.close();
    await cli.close();
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenRequests = (grant: string, status = 200) => platform.requests.filter((request) => request.grantType === grant && request.status === status).length;
  const azRuns = () => lines.filter((line) => line.startsWith('az account get-access-token ')).length;
  /** What the method read from az's own expiry field, from its log line. */
  const azSaid = () => {
    const match = / \(az: (\S+) from (expiresOn|expires_on); exp: (\S+)\)\.$/.exec(lines.filter((line) => line.startsWith("The Azure CLI's token for")).at(-1) ?? '');
    assert.ok(match, 'the method logged what az said');
    return { az: Date.parse(match[1] as string), source: match[2], exp: Date.parse(match[3] as string) };
  };
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  /** The status the API server double answers a request with this bearer token. */
  const apiStatus = (token: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL('/api/v1/namespaces', api.url);
      request(url, { ca: ca.caPem, headers: { authorization: `Bearer ${token}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
  const refusingUi: SignInUi = {
    showDeviceCode: () => assert.fail('the Azure CLI method showed a device code'),
    openBrowser: async () => assert.fail('the Azure CLI method opened a browser'),
  };
  const assertExpiryRead = (token: { expiresOn: Date; accessToken: string }) => {
    const exp = Number(claimsOf(token.accessToken)['exp']) * 1000;
    const said = azSaid();
    // az stamps its expiry as its own clock + expires_in, so it may be a second or two off the exp claim.
    assert.equal(said.source, 'expiresOn', 'az 2.45 prints only the local time');
    assert.ok(Math.abs(said.az - exp) <= 2000, `az's local expiresOn read as ${new Date(said.az).toISOString()}, exp is ${new Date(exp).toISOString()}`);
    assert.equal(said.exp, exp);
    assert.equal(token.expiresOn.getTime(), Math.min(said.az, exp));
    assert.ok(!lines.some((line) => line.includes('time zone or clock may be off')));
  };

  test('not logged in: notSignedIn, with the az login command for the tenant', async () => {
    await assert.rejects(method.acquire(targetFor(), refusingUi), (error: unknown) => {
      assert.ok(error instanceof AzureCliAuthError);
      assert.deepEqual([error.kind, error.code, error.remedy.kind, error.command], ['notSignedIn', 'az_not_logged_in', 'signInAgain', `az login --tenant ${demo.CONTOSO_TENANT}`]);
      return true;
    });
  });

  test('signed in with az login: a token the API server accepts, for the right account, expiring at its exp', async () => {
    await cli.login(ALICE, { tenant: demo.CONTOSO_TENANT });
    // MSAL Python treats a token with less than five minutes left as expired: each ask redeems the refresh token.
    platform.controls.tokenLifetimeSeconds = 120;
    const refreshes = tokenRequests('refresh_token');
    const token = await method.acquire(targetFor(), refusingUi);
    assert.equal(tokenRequests('refresh_token'), refreshes + 1);
    assert.equal(await apiStatus(token.accessToken), 200);
    const claims = claimsOf(token.accessToken);
    assert.deepEqual([claims['aud'], claims['azp']], [AKS_SERVER, '04b07795-8ddb-461a-bbee-02f9e1bf7b46']);
    assert.deepEqual(token.account, { homeAccountId: `${ALICE_OID}.${demo.CONTOSO_TENANT}`, username: ALICE, tenantId: demo.CONTOSO_TENANT, name: 'Alice Admin' });
    assert.equal(token.refreshToken, undefined);
    assertExpiryRead(token);
    last = tokenFingerprint(token.accessToken);
  });

  test('asked again after the short lifetime, in New York and in Kolkata: a new token each time, its local expiry read right', async () => {
    for (const timeZone of ['America/New_York', 'Asia/Kolkata']) {
      const token = await inTimeZone(timeZone, () => method.acquireSilent(targetFor(), `${ALICE_OID}.${demo.CONTOSO_TENANT}`, { forceRefresh: true }));
      assert.notEqual(tokenFingerprint(token.accessToken), last, `${timeZone}: a new token`);
      last = tokenFingerprint(token.accessToken);
      assert.equal(await apiStatus(token.accessToken), 200);
      await inTimeZone(timeZone, () => assertExpiryRead(token));
    }
  });

  test('a tenant the account is not in: notInTenant, and az login for that tenant', async () => {
    await assert.rejects(method.acquire(targetFor({ tenantId: demo.FABRIKAM_TENANT }), refusingUi), (error: unknown) => {
      assert.ok(error instanceof AzureCliAuthError);
      assert.deepEqual([error.kind, error.code, error.remedy.kind, error.command], ['notInTenant', 'AADSTS50020', 'signInAgain', `az login --tenant ${demo.FABRIKAM_TENANT}`]);
      assert.match(error.message, new RegExp(`The account ${ALICE} is not a member of the tenant "${demo.FABRIKAM_TENANT}"`));
      return true;
    });
  });

  test('the session signs in a --login azurecli entry with it, writes the token form, and refresh() asks az again', async () => {
    platform.controls.tokenLifetimeSeconds = 240;
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, azSkeleton({ server: api.url, format: 'exec-kubelogin', loginMode: 'azurecli', tenantId: demo.CONTOSO_TENANT }), { mode: 0o600 });
    const records = new SessionRecordStore({ dir: join(dir, 'sessions'), clock: systemClock, logger: recordingLogger(lines), watch: false });
    const service = new SessionService({
      methods: new Map([['azureCli', method]]),
      clock: systemClock,
      logger: recordingLogger(lines),
      records,
      // A window of one minute leaves the 4-minute token alone while the test runs: only refresh() asks az.
      settings: () => ({ kubeconfigPaths: [kubeconfig], credentialFormat: 'auto', refreshBeforeMinutes: 1 }),
      kubectlMinor: async () => 33,
    });
    const { context, user } = azNames(0);
    try {
      await service.reload();
      const entry = service.entries().find((candidate) => candidate.context.name === context);
      assert.ok(entry?.user?.credential.kind === 'aks');
      const auto = autoMethod({ loginMode: entry.user.credential.identity.loginMode, browserReachesLoopback: true, available: new Set(signInMethodIds) });
      assert.equal(auto.method, 'azureCli', auto.reason);

      const runsBefore = azRuns();
      const outcome = await service.signIn(context, refusingUi, { method: auto.method });
      assert.deepEqual([outcome.method, outcome.format, outcome.account], ['azureCli', 'token', ALICE]);
      const first = tokenInKubeconfig(kubeconfig, user);
      assert.ok(first !== undefined);
      assert.equal(await apiStatus(first), 200);
      assert.match(readFileSync(kubeconfig, 'utf8'), /^ {4}token: /m);
      assert.deepEqual(service.sessions().map((session) => [session.method, session.homeAccountId]), [['azureCli', `${ALICE_OID}.${demo.CONTOSO_TENANT}`]]);

      const refreshes = tokenRequests('refresh_token');
      await service.refresh(context);
      const second = tokenInKubeconfig(kubeconfig, user);
      assert.ok(second !== undefined);
      assert.notEqual(tokenFingerprint(second), tokenFingerprint(first), 'refresh wrote a new token');
      assert.equal(await apiStatus(second), 200);
      assert.equal(tokenRequests('refresh_token'), refreshes + 1, 'az redeemed its refresh token once');
      assert.equal(azRuns() - runsBefore, 2, 'one az run to sign in, one to refresh');
      const state = service.entries().find((candidate) => candidate.context.name === context)?.state;
      assert.equal(state?.kind, 'signedIn');
    } finally {
      service.dispose();
      records.dispose();
    }
  });

  test('config-mode 0 gets the bare audience; a forced refresh with minutes left gets az\'s cached token, and the keeper takes it', async () => {
    // Nine minutes: inside the keeper's ten-minute window, yet more than the five az waits for.
    platform.controls.tokenLifetimeSeconds = 540;
    const target = targetFor({ serverId: CUSTOM_SERVER, configMode: '0' });
    const account = `${ALICE_OID}.${demo.CONTOSO_TENANT}`;
    const first = await method.acquireSilent(target, account, { forceRefresh: true });
    assert.equal(claimsOf(first.accessToken)['aud'], CUSTOM_SERVER);
    assert.equal(await apiStatus(first.accessToken), 200);

    const refreshes = tokenRequests('refresh_token');
    const got: string[] = [];
    const keeper = new TokenKeeper({
      clock: systemClock,
      logger: recordingLogger(lines),
      refreshBeforeMs: () => 10 * 60_000,
      refresh: async () => {
        const token = await method.acquireSilent(target, account, { forceRefresh: true });
        got.push(tokenFingerprint(token.accessToken));
        return { expiresOn: token.expiresOn };
      },
    });
    try {
      const startedAt = Date.now();
      keeper.track('custom', first.expiresOn);
      await waitFor(() => got.length === 1 && keeper.state('custom')?.kind === 'fresh', 10_000, 'the keeper\'s refresh through az');
      assert.deepEqual(got, [tokenFingerprint(first.accessToken)], 'the same token: az renews only in the last five minutes');
      assert.equal(tokenRequests('refresh_token'), refreshes, 'az answered from its cache');
      const state = keeper.state('custom');
      assert.ok(state?.kind === 'fresh');
      // az stamps a cached token's expiry anew as its clock plus whole seconds left, so it may read a second earlier.
      assert.ok(Math.abs(state.expiresOn.getTime() - first.expiresOn.getTime()) <= 2000, `${state.expiresOn.toISOString()} vs ${first.expiresOn.toISOString()}`);
      // It asks again a minute later (its shortest interval), not in a loop.
      assert.ok(state.refreshAt.getTime() >= startedAt + 59_000, `next refresh at ${state.refreshAt.toISOString()}`);
      assert.ok(lines.some((line) => /answered from its cache \(\d+ min left\)/.test(line)));
    } finally {
      keeper.dispose();
    }
  });

  test('a revoked sign-in: signInAgain, and az login to run', async () => {
    platform.controls.revokeRefreshTokens(ALICE);
    await assert.rejects(method.acquireSilent(targetFor(), `${ALICE_OID}.${demo.CONTOSO_TENANT}`, { forceRefresh: true }), (error: unknown) => {
      assert.ok(error instanceof AzureCliAuthError);
      assert.deepEqual([error.kind, error.code, error.remedy.kind, error.command], ['signInAgain', 'AADSTS50173', 'signInAgain', `az login --tenant ${demo.CONTOSO_TENANT}`]);
      assert.match(error.message, /run `az login --tenant [\w-]+` in a terminal, then sign in here again\.$/);
      return true;
    });
  });

  test('nothing az ran left loopback, and no token reached the log', () => {
    assert.deepEqual(cli.egressAttempts(), []);
    assert.ok(azRuns() <= 11, `${azRuns()} az runs through the method`);
    assert.deepEqual(lines.filter((line) => /eyJ[\w-]+\.[\w-]+/.test(line)), []);
  });
});
