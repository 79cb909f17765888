// The real Azure CLI (`az`, Debian's azure-cli 2.45) against the identity platform double, offline and
// isolated: its own profile folder (AZURE_CONFIG_DIR, HOME) in a run folder, a cloud registered with the
// double's endpoints, the test CA added to the CAs it trusts, and a guard proving it never leaves loopback:
// every outbound HTTP(S) goes through a proxy that refuses and records it, and a `sitecustomize.py` refuses
// and records any socket connection or name lookup outside 127.0.0.0/8 and ::1. The product will spawn
// `az` itself; `env()` and `azPath` are what it needs to find this profile.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import type { IdentityPlatform } from './identity-platform';
import { verifyJwt } from './jwt';
import { startEgressTrap, type EgressTrap } from './kubectl';
import type { TestCa } from './tls';

/** Debian's bundle of public CAs, kept so a custom bundle does not stop az verifying real hosts. */
export const systemCaBundle = '/etc/ssl/certs/ca-certificates.crt';

/** The Azure CLI's public client id: the `azp`/`appid` of every token az gets. */
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

/** ARM's resource id in the public cloud, which az asks the login token for. */
export const ARM_RESOURCE = 'https://management.core.windows.net/';

/** What az 2.45 prints on stderr, exit code 1, for a token when nobody is logged in. */
export const NOT_LOGGED_IN_MESSAGE = "ERROR: Please run 'az login' to setup account.";

export class AzureCliNotFound extends Error {
  constructor(searched: string) {
    super(`The Azure CLI (az) was not found on PATH (${searched || 'empty'}). Install it, e.g. "apt-get install azure-cli" on Debian.`);
    this.name = 'AzureCliNotFound';
  }
}

export interface AzResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export class AzureCliError extends Error {
  constructor(
    readonly args: string[],
    readonly result: AzResult,
  ) {
    super(`az ${args.join(' ')} exited with ${result.code}: ${redact(result.stderr.trim())}`);
    this.name = 'AzureCliError';
  }
}

/** What `az account get-access-token -o json` prints in 2.45 (no `expires_on` yet; newer releases add it). */
export interface AzAccessToken {
  accessToken: string;
  /** Local time of the machine az ran on, no zone: `YYYY-MM-DD HH:MM:SS.ffffff`. */
  expiresOn: string;
  /** The tenant id of a tenant-level account when there is no subscription. */
  subscription?: string;
  tenant: string;
  tokenType: string;
}

export interface AzCall {
  /** The command words, e.g. `account get-access-token`. */
  args: string[];
  code: number | null;
  durationMs: number;
}

export interface AzureCliOptions {
  identityPlatform: IdentityPlatform;
  /** The CA that signed the identity platform's certificate (and signs the stand-in ARM's). */
  ca: TestCa;
  /** Run folder: profile, CA bundle, guard and logs go here. */
  dir: string;
  /** An ARM double; without one, a stand-in ARM with no subscriptions answers az's calls after login. */
  armUrl?: string;
  cloudName?: string;
  /**
   * true leaves MSAL Python's instance discovery on: az then asks login.microsoftonline.com about the
   * authority, which the guard must catch. Only for proving the guard.
   */
  instanceDiscovery?: boolean;
}

export interface AzureCli {
  readonly azPath: string;
  readonly configDir: string;
  readonly cloudName: string;
  readonly armUrl: string;
  /** Requests the stand-in ARM answered (empty when `armUrl` was given). */
  readonly armRequests: { method: string; path: string; status: number }[];
  /** Every az run so far, for timing. */
  readonly calls: AzCall[];
  /** The environment any az command needs to use this profile (and nothing else on the machine). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Outbound attempts the guard caught: proxy CONNECTs / requests, then refused sockets and lookups. */
  egressAttempts(): string[];
  run(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number; onStderr?: (text: string) => void }): Promise<AzResult>;
  /** `az login --use-device-code --allow-no-subscriptions --tenant <t>`, approving the code az prints as `username`. */
  login(username: string, options: { tenant: string }): Promise<{ accounts: Record<string, unknown>[]; result: AzResult }>;
  getAccessToken(options: { resource: string; tenant?: string; env?: Record<string, string> }): Promise<AzAccessToken>;
  logout(): Promise<void>;
  close(): Promise<void>;
}

const JWT_SHAPED = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;
const redact = (text: string) => text.replace(JWT_SHAPED, '<jwt>');

/** The `az` executable on `pathEnv`, or undefined. */
export function findAz(pathEnv: string = process.env.PATH ?? ''): string | undefined {
  for (const folder of pathEnv.split(delimiter).filter(Boolean)) {
    const candidate = join(folder, 'az');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export function requireAz(pathEnv: string = process.env.PATH ?? ''): string {
  const az = findAz(pathEnv);
  if (!az) throw new AzureCliNotFound(pathEnv);
  return az;
}

// Loaded by every Python process az starts, because its folder is first on PYTHONPATH (so it also hides
// Debian's own sitecustomize, which only hooks crash reporting).
const SITECUSTOMIZE = String.raw`# Written by the tests' Azure CLI profile; see test/support/azure-cli.ts.
import errno
import ipaddress
import os
import socket

_log = os.environ.get("AKS_SIGNIN_AZ_EGRESS_LOG")


def _is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).split("%")[0].strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(what):
    if _log:
        with open(_log, "a", encoding="utf-8") as log:
            log.write(what + "\n")
    raise OSError(errno.ENETUNREACH, "refused by the test profile: only loopback is reachable (" + what + ")")


_getaddrinfo = socket.getaddrinfo


def _is_address(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).split("%")[0].strip("[]"))
        return True
    except ValueError:
        return False


# A name is looked up through the network's resolver; an address literal needs no lookup, and a connection
# to it meets the connect guard below.
def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_address(host) and not _is_loopback(host):
        _refuse("lookup " + str(host))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo

for _name in ("connect", "connect_ex"):
    _original = getattr(socket.socket, _name)

    def _guarded(self, address, _original=_original, _name=_name):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            _refuse(_name + " " + str(address[0]) + ":" + str(address[1]))
        return _original(self, address)

    setattr(socket.socket, _name, _guarded)

# az 2.45 bundles MSAL Python 1.21, which first asks login.microsoftonline.com whether an authority is
# known ("instance discovery") and offers no setting for it.
if os.environ.get("AKS_SIGNIN_AZ_INSTANCE_DISCOVERY") != "1":
    try:
        import msal.application as _msal_application

        _init = _msal_application.ClientApplication.__init__

        def _without_instance_discovery(self, *args, **kwargs):
            kwargs.setdefault("instance_discovery", False)
            return _init(self, *args, **kwargs)

        _msal_application.ClientApplication.__init__ = _without_instance_discovery
    except ImportError:
        pass

# On its first run in a fresh profile az checks for a newer release: a HEAD to https://azure.microsoft.com
# and then GitHub. Offline that is only a delay, and it is no business of these tests.
try:
    import azure.cli.core.util as _az_util

    _az_util.check_connectivity = lambda *args, **kwargs: False
except ImportError:
    pass
`;

/** ARM as az sees it right after login when there is no ARM double: a tenant with no subscriptions. */
async function startEmptyArm(options: AzureCliOptions, requests: AzureCli['armRequests']): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer({ key: options.ca.serverCertificate.key, cert: options.ca.serverCertificate.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://placeholder').pathname;
    const reply = (status: number, body: unknown) => {
      requests.push({ method: req.method ?? 'GET', path, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const keys = new Map(options.identityPlatform.signingKeys.map((key) => [key.kid, key.publicKey]));
    const verified = verifyJwt(token, keys);
    if (!verified.ok || verified.claims.aud !== ARM_RESOURCE) {
      reply(401, { error: { code: 'InvalidAuthenticationToken', message: `The access token is invalid (${verified.ok ? 'wrong audience' : verified.reason}).` } });
      return;
    }
    if (req.method === 'GET' && path === '/subscriptions') return reply(200, { value: [] });
    if (req.method === 'GET' && path === '/tenants') {
      const tenantId = String(verified.claims.tid);
      return reply(200, { value: [{ id: `/tenants/${tenantId}`, tenantId, tenantCategory: 'Home' }] });
    }
    reply(404, { error: { code: 'NotFound', message: `No ARM double answers ${req.method} ${path}; give createAzureCli an armUrl.` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.2', () => resolve());
  });
  return {
    url: `https://127.0.0.2:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Makes the profile: CA bundle, guard, cloud registered and set. Two az runs. */
export async function createAzureCli(options: AzureCliOptions): Promise<AzureCli> {
  const azPath = requireAz();
  const cloudName = options.cloudName ?? 'AksSignInTest';
  const configDir = join(options.dir, 'azure');
  const home = join(options.dir, 'home');
  const pythonDir = join(options.dir, 'python');
  const egressLog = join(options.dir, 'egress.log');
  for (const folder of [configDir, home, pythonDir]) mkdirSync(folder, { recursive: true });
  writeFileSync(join(pythonDir, 'sitecustomize.py'), SITECUSTOMIZE);
  writeFileSync(egressLog, '');
  const caBundle = join(options.dir, 'ca-bundle.pem');
  writeFileSync(caBundle, `${readFileSync(systemCaBundle, 'utf8').trimEnd()}\n${options.ca.caPem}`);

  const armRequests: AzureCli['armRequests'] = [];
  const trap: EgressTrap = await startEgressTrap();
  let arm: { url: string; close(): Promise<void> } | undefined;
  try {
    if (options.armUrl === undefined) arm = await startEmptyArm(options, armRequests);
  } catch (error) {
    await trap.close();
    throw error;
  }
  const armUrl = options.armUrl ?? arm!.url;
  const calls: AzCall[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    // A clean environment: nothing from the machine's own az profile, proxies or Azure variables.
    PATH: `${dirname(azPath)}${delimiter}/usr/bin${delimiter}/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
    AZURE_CONFIG_DIR: configDir,
    AZURE_EXTENSION_DIR: join(configDir, 'cliextensions'),
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_OUTPUT: 'json',
    REQUESTS_CA_BUNDLE: caBundle,
    PYTHONPATH: pythonDir,
    AKS_SIGNIN_AZ_EGRESS_LOG: egressLog,
    ...(options.instanceDiscovery ? { AKS_SIGNIN_AZ_INSTANCE_DISCOVERY: '1' } : {}),
    ...trap.env,
    // Loopback goes direct (requests accepts CIDR here); everything else meets the trap.
    NO_PROXY: '127.0.0.0/8,localhost,::1',
    no_proxy: '127.0.0.0/8,localhost,::1',
    ...extra,
  });

  const run: AzureCli['run'] = (args, runOptions = {}) =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const child = spawn(azPath, args, { env: env(runOptions.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        runOptions.onStderr?.(stderr);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), runOptions.timeoutMs ?? 60_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        const command = args.slice(0, Math.max(1, args.findIndex((arg) => arg.startsWith('-'))));
        calls.push({ args: command, code, durationMs });
        resolve({ code, stdout, stderr, durationMs });
      });
    });

  const checked = async (args: string[], runOptions?: Parameters<AzureCli['run']>[1]): Promise<AzResult> => {
    const result = await run(args, runOptions);
    if (result.code !== 0) throw new AzureCliError(args, result);
    return result;
  };

  const platformUrl = options.identityPlatform.url;
  const cli: AzureCli = {
    azPath,
    configDir,
    cloudName,
    armUrl,
    armRequests,
    calls,
    env,
    egressAttempts: () => [
      ...trap.attempts.map((attempt) => `proxy ${attempt}`),
      ...readFileSync(egressLog, 'utf8').split('\n').filter(Boolean),
    ],
    run,
    async login(username, { tenant }) {
      const args = ['login', '--use-device-code', '--allow-no-subscriptions', '--tenant', tenant, '-o', 'json'];
      let approving: Promise<void> | undefined;
      let approvalError: unknown;
      const result = await run(args, {
        onStderr: (text) => {
          const code = /enter the code (\S+) to authenticate/.exec(text)?.[1];
          if (code && !approving) {
            approving = options.identityPlatform.completeDeviceLogin(code, username).catch((error: unknown) => {
              approvalError = error;
            });
          }
        },
      });
      await approving;
      if (approvalError) throw approvalError;
      if (result.code !== 0) throw new AzureCliError(args, result);
      return { accounts: JSON.parse(result.stdout) as Record<string, unknown>[], result };
    },
    async getAccessToken({ resource, tenant, env: extra }) {
      const args = ['account', 'get-access-token', '--resource', resource, ...(tenant ? ['--tenant', tenant] : []), '-o', 'json'];
      const result = await checked(args, { env: extra });
      return JSON.parse(result.stdout) as AzAccessToken;
    },
    async logout() {
      await checked(['logout']);
    },
    async close() {
      await Promise.allSettled([trap.close(), arm?.close()]);
    },
  };

  try {
    await checked([
      'cloud', 'register', '-n', cloudName,
      '--endpoint-active-directory', platformUrl,
      '--endpoint-resource-manager', armUrl,
      '--endpoint-active-directory-resource-id', ARM_RESOURCE,
      '--endpoint-active-directory-graph-resource-id', 'https://graph.windows.net/',
      '--endpoint-management', ARM_RESOURCE,
    ]);
    await checked(['cloud', 'set', '-n', cloudName]);
  } catch (error) {
    await cli.close();
    throw error;
  }
  return cli;
}
