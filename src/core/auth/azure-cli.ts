// The Azure CLI method: the token comes from the `az` the person already signed in with, as kubelogin's
// `azurecli` mode gets it (`az account get-access-token --resource <server-id> [--tenant <t>]`). az keeps
// the sign-in and its refresh token in its own profile; nothing of it is stored here, no refresh token is
// ever seen, and signing out leaves az signed in. It never prompts: when az needs the person, the error
// names the `az login` command to run in a terminal.
import { execFile, type ExecFileException } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { jwtClaims } from '../kubeconfig/identity';
import { systemClock, type Clock, type Logger } from '../ports';
import { redactSecrets } from '../redact';
import type { Remedy } from '../remedy';
import { resolveCloud, tenantOf } from './clouds';
import { AuthError, cancelledError, toAuthError, type FailureContext } from './errors';
import type { SignInMethod } from './methods';
import type { AuthErrorKind, AuthTarget, TokenResult } from './types';

export interface AzureCliMethodOptions {
  /** The az executable: a path, or a name looked up on the PATH of `env()`. Default `az`. */
  az?: string;
  /** The environment az runs in (its profile folder, proxy, PATH). Default: this process's. */
  env?: () => NodeJS.ProcessEnv;
  /** How long one az run may take before it is stopped. Default 30 s, as kubelogin's azurecli mode. */
  timeoutMs?: number;
  logger: Logger;
  clock?: Clock;
}

/** The Azure CLI's own public client: every token az gets is issued to it, whatever the kubeconfig names. */
const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const defaultTimeoutMs = 30_000;
/** MSAL Python (inside az) serves a cached token until it has less than this left, then redeems its refresh token. */
const azRenewsWithinMs = 5 * 60_000;
/** az stamps its expiry from its own clock at the response; more than this apart from `exp` means a misread. */
const expiryToleranceMs = 120_000;
const multiTenantSegments = new Set(['organizations', 'common', 'consumers']);

/** An AuthError from the Azure CLI, with the terminal command that fixes it when there is one. */
export class AzureCliAuthError extends AuthError {
  /** E.g. `az login --tenant contoso.onmicrosoft.com`: for a "Run in Terminal" action. */
  readonly command?: string;
  // Installing az or choosing another method is a setting's business, which no AuthError kind says yet.
  declare readonly remedy: Remedy;

  constructor(kind: AuthErrorKind, message: string, details: { code?: string; retryable?: boolean; command?: string; remedy?: Remedy } = {}) {
    super(kind, message, details);
    this.name = 'AzureCliAuthError';
    if (details.command !== undefined) this.command = details.command;
    if (details.remedy !== undefined) this.remedy = details.remedy;
  }
}

/** The az on `env`'s PATH (with PATHEXT on Windows), or undefined: a cheap check that starts no process. */
export function azureCliOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const windows = process.platform === 'win32';
  const path = env.PATH ?? env.Path ?? '';
  const names = windows ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean).map((ext) => `az${ext.toLowerCase()}`) : ['az'];
  for (const folder of path.split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(folder, name);
      try {
        accessSync(candidate, windows ? constants.F_OK : constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Reading what az prints

/** What `az account get-access-token -o json` printed, read. Never logged: it holds the token. */
export interface AzTokenReading {
  accessToken: string;
  /** When az says the token expires, and which field said it (2.45 prints only `expiresOn`). */
  azExpiresOn?: Date;
  azExpirySource?: 'expires_on' | 'expiresOn';
  /** The token's own `exp` claim. */
  exp?: Date;
  /** The earlier of the two: a misread local time can only make the token refresh sooner. */
  expiresOn: Date;
  claims: Record<string, unknown>;
}

const localTimePattern = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * az's `expiresOn`, `YYYY-MM-DD HH:MM:SS.ffffff` in this machine's local time with no zone (Python's
 * `datetime.fromtimestamp`). An hour that a DST change repeats has two readings: the one nearer `near`
 * (the token's exp, in epoch ms) when given, else the earlier; an hour the change skips (no such local
 * time exists) reads as the earlier candidate. Undefined when it is not such a time.
 */
export function parseAzLocalTime(text: string, near?: number): Date | undefined {
  const match = localTimePattern.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second) {
    return undefined;
  }
  const offsetAt = (instant: number) => -new Date(instant).getTimezoneOffset() * 60_000;
  // Any one DST change near the wall time has its offset before it a day earlier and after it a day later.
  const offsets = new Set([wall - 86_400_000, wall, wall + 86_400_000].map(offsetAt));
  const candidates = [...offsets].map((offset) => wall - offset);
  const exact = candidates.filter((instant) => instant + offsetAt(instant) === wall);
  const pool = exact.length > 0 ? exact : candidates;
  if (near !== undefined && pool.length > 1) {
    pool.sort((a, b) => Math.abs(a - near) - Math.abs(b - near) || a - b);
    return new Date(pool[0] as number);
  }
  return new Date(Math.min(...pool));
}

function epochSeconds(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  // Anything before 2001 or after 5138 is not an expiry in seconds (milliseconds, or garbage).
  return Number.isFinite(number) && number > 1e9 && number < 1e11 ? number * 1000 : undefined;
}

function unreadable(what: string): AzureCliAuthError {
  return new AzureCliAuthError('platformError', `The Azure CLI answered, but ${what}. Update the Azure CLI, or choose another sign-in method in the setting aksSignIn.signInMethod.`, {
    code: 'az_output_unreadable',
    retryable: false,
  });
}

/** Reads az's JSON; throws an AuthError (without any of the output in it) when it is not a token. */
export function readAzAccessToken(stdout: string): AzTokenReading {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw unreadable('what it printed is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unreadable('what it printed is not a JSON object');
  const output = parsed as Record<string, unknown>;
  const accessToken = typeof output['accessToken'] === 'string' ? output['accessToken'].trim() : '';
  if (accessToken === '') throw unreadable('its answer holds no accessToken');
  const claims = jwtClaims(accessToken);
  if (claims === undefined) throw unreadable('its accessToken is not a JWT');
  const expSeconds = typeof claims['exp'] === 'number' && Number.isFinite(claims['exp']) ? claims['exp'] : undefined;
  const exp = expSeconds === undefined ? undefined : new Date(expSeconds * 1000);

  let azExpiresOn: Date | undefined;
  let azExpirySource: AzTokenReading['azExpirySource'];
  // Newer releases add `expires_on` (epoch seconds): no time zone to guess.
  const epoch = epochSeconds(output['expires_on']);
  if (epoch !== undefined) {
    azExpiresOn = new Date(epoch);
    azExpirySource = 'expires_on';
  } else if (typeof output['expiresOn'] === 'string') {
    azExpiresOn = parseAzLocalTime(output['expiresOn'], exp?.getTime());
    if (azExpiresOn) azExpirySource = 'expiresOn';
  }
  const known = [azExpiresOn, exp].filter((date): date is Date => date !== undefined);
  if (known.length === 0) throw unreadable('neither its answer nor the token says when the token expires');
  const expiresOn = new Date(Math.min(...known.map((date) => date.getTime())));
  return {
    accessToken,
    ...(azExpiresOn ? { azExpiresOn, azExpirySource } : {}),
    ...(exp ? { exp } : {}),
    expiresOn,
    claims,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The account a token of az names: whoever az is signed in as, a user or a service principal. */
export function tokenResultOf(reading: AzTokenReading): TokenResult {
  const { claims } = reading;
  const oid = text(claims['oid']);
  const tid = text(claims['tid']);
  if (oid === undefined || tid === undefined) throw unreadable('its token names no account (no oid or tid claim)');
  const username = text(claims['upn']) ?? text(claims['preferred_username']) ?? text(claims['unique_name']) ?? text(claims['email']) ?? text(claims['appid']) ?? oid;
  const name = text(claims['name']);
  return {
    accessToken: reading.accessToken,
    expiresOn: reading.expiresOn,
    account: { homeAccountId: `${oid}.${tid}`, username, tenantId: tid, ...(name !== undefined ? { name } : {}) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// What to ask az

/** The `--tenant` to pass, or undefined when the entry names none (az then uses the tenant it signed in to). */
function tenantArgument(target: AuthTarget): string | undefined {
  const tenant = tenantOf(target);
  return multiTenantSegments.has(tenant.toLowerCase()) ? undefined : tenant;
}

/**
 * The resource to ask for: the server app id as the kubeconfig names it. config-mode "0" (client-go's
 * `spn:<id>` audience for the v1 endpoint) asks for the bare id too: kubelogin's azurecli mode ignores
 * `--legacy` and passes the server id, and AKS accepts the bare app id as the audience in every mode.
 */
export function azureCliResource(target: AuthTarget): string {
  return target.serverId.trim().replace(/\/\.default$/i, '').replace(/^spn:/i, '');
}

/** The arguments of the one az command this method runs. Throws for values that are no id, domain or URI. */
export function azureCliArguments(target: AuthTarget): string[] {
  const resource = azureCliResource(target);
  // No shell runs these, but az's own parser would read a value starting with "-" as an option.
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(resource)) {
    throw new AzureCliAuthError('serverAppMissing', `The kubeconfig names the server app "${target.serverId}", which is not an app id or URI. Run "az aks get-credentials" for the cluster again.`, { code: 'invalid_server_id', retryable: false });
  }
  const tenant = tenantArgument(target);
  if (tenant !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tenant)) {
    throw new AzureCliAuthError('badTenant', `The kubeconfig names the tenant "${tenant}", which is neither a tenant id nor a domain. Fix the tenant of this cluster's kubeconfig entry.`, { code: 'invalid_tenant', retryable: false });
  }
  return ['account', 'get-access-token', '--resource', resource, ...(tenant !== undefined ? ['--tenant', tenant] : []), '-o', 'json'];
}

/** `az login` for this identity's tenant: what a person runs when az has no usable sign-in for it. */
export function azureCliLoginCommand(target: AuthTarget): string {
  const tenant = tenantArgument(target);
  return tenant === undefined ? 'az login' : `az login --tenant ${tenant}`;
}

// ---------------------------------------------------------------------------------------------------------
// What az's failures mean

const safeCommand = /^az [A-Za-z0-9 ._:/=-]+$/;

/** The commands az itself recommends after "Please run:", with this identity's tenant added to `az login`. */
function suggestedCommand(stderr: string, target: AuthTarget): string {
  const after = /please run:\s*\n([\s\S]*)$/i.exec(stderr)?.[1] ?? '';
  const commands = after
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => safeCommand.test(line));
  if (commands.length === 0) return azureCliLoginCommand(target);
  const tenant = tenantArgument(target);
  return commands.map((command) => (tenant !== undefined && /^az login\b/.test(command) && !/--tenant\b/.test(command) ? command.replace(/^az login/, `az login --tenant ${tenant}`) : command)).join(', then ');
}

/** az's own words after "ERROR: ", without the trace ids, redacted and short. */
function azMessage(stderr: string): string {
  const line = stderr.split('\n').find((candidate) => candidate.startsWith('ERROR: ')) ?? stderr.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  const words = line.replace(/^ERROR:\s*/, '').replace(/\s*Trace ID:[\s\S]*$/, '').trim();
  return words.length > 240 ? `${words.slice(0, 237)}...` : words;
}

function hostIn(stderr: string): string | undefined {
  return /(?:for url:|configuration for) https?:\/\/([^/\s]+)/.exec(stderr)?.[1] ?? /host='([^']+)'(?:, port=(\d+))?/.exec(stderr)?.slice(1).filter(Boolean).join(':');
}

/**
 * What a failed `az account get-access-token` means, from what it printed on stderr (az 2.45 exits 1 for all
 * of these). AADSTS codes go through the same table as the MSAL methods; the message then says which
 * `az login` fixes it.
 */
export function azureCliFailure(stderrText: string, target: AuthTarget, exitCode?: number): AzureCliAuthError {
  const stderr = redactSecrets(stderrText);
  const login = azureCliLoginCommand(target);
  const tenant = tenantOf(target);
  const resource = azureCliResource(target);

  if (/Please run 'az login' to setup account/i.test(stderr)) {
    return new AzureCliAuthError('notSignedIn', `The Azure CLI is not signed in. Run \`${login}\` in a terminal, then sign in here again.`, { code: 'az_not_logged_in', command: login });
  }
  if (/is not recognized as an internal or external command/i.test(stderr)) return notInstalled('az');

  const aadsts = [...stderr.matchAll(/AADSTS(\d+)/g)].map((match) => Number(match[1]));
  const seenHost = hostIn(stderr);
  if (aadsts.length > 0) {
    // AADSTS50020 names the account az is signed in with.
    const username = /User account '([^']+)'/.exec(stderr)?.[1];
    const context: FailureContext = {
      operation: 'refresh',
      loginHost: seenHost !== undefined ? `https://${seenHost}` : resolveCloud(target.environment, target.authorityHost).loginHost,
      tenant,
      clientId: AZURE_CLI_CLIENT_ID,
      serverId: resource,
      ...(username !== undefined ? { username } : {}),
      failures: [],
    };
    const mapped = toAuthError({ errorMessage: aadsts.map((code) => `AADSTS${code}`).join(' ') }, context);
    if (mapped.code?.startsWith('AADSTS')) {
      const command = mapped.kind === 'interactionRequired' ? suggestedCommand(stderr, target) : mapped.kind === 'notInTenant' ? `az login --tenant ${tenant}` : login;
      // Only a new sign-in of az's helps; a flow Conditional Access blocked may pass in az's browser login. Where an
      // administrator or the kubeconfig entry must change, no az command would.
      const helps = mapped.remedy.kind === 'signInAgain' || mapped.kind === 'blocked';
      const fix = helps ? ` The Azure CLI holds this sign-in: run \`${command}\` in a terminal, then sign in here again.` : '';
      return new AzureCliAuthError(mapped.kind, `${mapped.message}${fix}`, { code: mapped.code, retryable: mapped.retryable, ...(fix ? { command } : {}) });
    }
    // A code the table does not know: az's own advice after it is all there is.
    const command = suggestedCommand(stderr, target);
    return new AzureCliAuthError('interactionRequired', `The Azure CLI's sign-in cannot get a token for the cluster (${azMessage(stderr)}). Run \`${command}\` in a terminal, then sign in here again.`, {
      code: `AADSTS${aadsts[0]}`,
      retryable: false,
      command,
    });
  }
  if (/Interactive authentication is needed/i.test(stderr)) {
    const command = suggestedCommand(stderr, target);
    return new AzureCliAuthError('interactionRequired', `The Azure CLI needs you to sign in again (${azMessage(stderr)}). Run \`${command}\` in a terminal, then sign in here again.`, { code: 'az_interaction_required', retryable: false, command });
  }
  if (/Can't find token from MSAL cache/i.test(stderr)) {
    const command = suggestedCommand(stderr, target);
    return new AzureCliAuthError('notSignedIn', `The Azure CLI has no saved sign-in for this account. Run \`${command}\` in a terminal, then sign in here again.`, { code: 'az_no_cached_token', command });
  }

  // requests' HTTPError: "500 Server Error: Internal Server Error for url: https://…" (MSAL Python then replays it
  // from its own cache for a while, without asking again).
  const http = /(\d{3}) (?:Client|Server) Error\b/.exec(stderr);
  const status = http ? Number(http[1]) : undefined;
  const host = seenHost ?? new URL(resolveCloud(target.environment, target.authorityHost).loginHost).host;
  if (status !== undefined && (status >= 500 || status === 429)) {
    return new AzureCliAuthError('platformError', `The sign-in service at ${host} had a temporary problem (HTTP ${status}, reported by the Azure CLI). It will be retried; nothing needs to change on your side.`, { code: `HTTP ${status}`, retryable: true });
  }
  if (/Unable to get authority configuration/i.test(stderr)) {
    return new AzureCliAuthError('badTenant', `The tenant "${tenant}" was not found at ${host} (the Azure CLI could not read its configuration). Check the tenant id and the cloud of this cluster's kubeconfig entry, and the cloud az uses (\`az cloud show\`).`, { code: 'az_unknown_tenant', retryable: false });
  }
  const network = networkCode(stderr);
  if (network !== undefined) {
    if (network === 'CERT') {
      return new AzureCliAuthError('unreachable', `The Azure CLI does not trust the certificate of the sign-in service at ${host}. If a proxy inspects HTTPS, point REQUESTS_CA_BUNDLE at a bundle with its CA; the request will be retried.`, { code: 'az_certificate', retryable: true });
    }
    return new AzureCliAuthError('unreachable', `The Azure CLI cannot reach the sign-in service at ${host} (${network}). Check the network connection or proxy; the request will be retried.`, { code: network, retryable: true });
  }
  const words = azMessage(stderr);
  return new AzureCliAuthError(
    'platformError',
    `The Azure CLI could not get a token${exitCode !== undefined ? ` (exit code ${exitCode}${words ? `: ${words}` : ''})` : words ? ` (${words})` : ''}. Run \`az ${azureCliArgumentsText(target)}\` in a terminal to see why, or choose another sign-in method in the setting aksSignIn.signInMethod.`,
    { code: 'az_failed', retryable: false },
  );
}

function azureCliArgumentsText(target: AuthTarget): string {
  try {
    return azureCliArguments(target).join(' ');
  } catch {
    return 'account get-access-token';
  }
}

/** The network failure in a Python traceback or requests' message, as Node would name it. */
function networkCode(stderr: string): string | undefined {
  if (/SSLError|CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError/.test(stderr)) return 'CERT';
  if (/Connection refused|\[Errno 111\]|\[WinError 10061\]/.test(stderr)) return 'ECONNREFUSED';
  if (/Name or service not known|Temporary failure in name resolution|getaddrinfo failed|nodename nor servname|Failed to resolve/.test(stderr)) return 'ENOTFOUND';
  if (/Read timed out|ReadTimeout|ConnectTimeout|timed out/i.test(stderr)) return 'ETIMEDOUT';
  if (/Max retries exceeded|ConnectionError|NewConnectionError|Connection reset|Connection aborted|RemoteDisconnected|ProxyError/.test(stderr)) return 'ECONNRESET';
  return undefined;
}

function notInstalled(az: string): AzureCliAuthError {
  const where = az === 'az' ? 'on the PATH that VS Code sees' : `at ${az}`;
  return new AzureCliAuthError(
    'platformError',
    `The Azure CLI (az) was not found ${where}. Install the Azure CLI and run \`az login\`, or choose another sign-in method in the setting aksSignIn.signInMethod.`,
    { code: 'az_not_found', retryable: false, remedy: { kind: 'fixSetting' } },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Running az

type AzOutcome =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string }
  | { kind: 'notFound'; code: string }
  | { kind: 'timedOut' }
  | { kind: 'aborted' }
  | { kind: 'failedToRun'; code: string };

/** How to start az: directly, except a batch file on Windows (az.cmd), which Node starts only through cmd.exe. */
function commandFor(az: string, args: string[]): { file: string; args: string[]; verbatim: boolean } {
  if (process.platform !== 'win32' || /\.(exe|com)$/i.test(az)) return { file: az, args, verbatim: false };
  // Every argument was checked to hold no space or cmd metacharacter; only the path may need quotes.
  const line = [az, ...args].map((part) => (/[\s&()^|<>]/.test(part) ? `"${part}"` : part)).join(' ');
  return { file: process.env.ComSpec ?? 'cmd.exe', args: ['/d', '/s', '/c', `"${line}"`], verbatim: true };
}

function runAz(az: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal | undefined): Promise<AzOutcome> {
  const command = commandFor(az, args);
  return new Promise((resolve) => {
    const child = execFile(
      command.file,
      command.args,
      { env, timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true, windowsVerbatimArguments: command.verbatim, encoding: 'utf8', ...(signal ? { signal } : {}) },
      (error: ExecFileException | null, stdout: string, stderr: string) => {
        if (error === null) return resolve({ kind: 'exited', exitCode: 0, stdout, stderr });
        if (error.name === 'AbortError') return resolve({ kind: 'aborted' });
        if (typeof error.code === 'number') return resolve({ kind: 'exited', exitCode: error.code, stdout, stderr });
        // Only the timeout kills it (an abort is told apart above); a signal from elsewhere is a crash.
        if (error.killed) return resolve({ kind: 'timedOut' });
        const code = typeof error.code === 'string' ? error.code : (error.signal ?? 'unknown');
        if (code === 'ENOENT' || code === 'ENOTDIR') return resolve({ kind: 'notFound', code });
        resolve({ kind: 'failedToRun', code });
      },
    );
    // No terminal and no input: a prompt of az's (knack's) fails at once instead of waiting for a person.
    child.stdin?.end();
  });
}

/** The environment az needs to answer one JSON document and nothing else. */
function azEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
    AZURE_CORE_DISABLE_CONFIRM_PROMPT: 'true',
  };
}

export function azureCliMethod(options: AzureCliMethodOptions): SignInMethod {
  const az = options.az?.trim() || 'az';
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const clock = options.clock ?? systemClock;
  const { logger } = options;

  async function token(target: AuthTarget, signal: AbortSignal | undefined, expected?: { homeAccountId: string; forceRefresh: boolean }): Promise<TokenResult> {
    if (signal?.aborted) throw cancelledError();
    const args = azureCliArguments(target);
    const commandText = `az ${args.join(' ')}`;
    const started = clock.now();
    const outcome = await runAz(az, args, azEnvironment(options.env?.() ?? process.env), timeoutMs, signal);
    const tookMs = clock.now() - started;
    switch (outcome.kind) {
      case 'aborted':
        throw cancelledError();
      case 'notFound':
        logger.debug(`${commandText}: ${outcome.code}.`);
        throw notInstalled(az);
      case 'failedToRun':
        throw new AzureCliAuthError('platformError', `The Azure CLI at ${az} could not be run (${outcome.code}). Check that it is installed and runnable, or choose another sign-in method in the setting aksSignIn.signInMethod.`, { code: outcome.code, retryable: false, remedy: { kind: 'fixSetting' } });
      case 'timedOut':
        logger.debug(`${commandText}: stopped after ${tookMs} ms.`);
        throw new AzureCliAuthError('unreachable', `The Azure CLI did not answer within ${Math.round(timeoutMs / 1000)} s (it was stopped). The network or the sign-in service may be slow; the request will be retried.`, { code: 'ETIMEDOUT', retryable: true });
      case 'exited':
        break;
    }
    logger.debug(`${commandText}: exit code ${outcome.exitCode} after ${tookMs} ms.`);
    if (outcome.exitCode !== 0) {
      const error = azureCliFailure(outcome.stderr, target, outcome.exitCode);
      logger.debug(`The Azure CLI said: ${azMessage(redactSecrets(outcome.stderr))}`);
      throw error;
    }
    const reading = readAzAccessToken(outcome.stdout);
    const result = tokenResultOf(reading);
    const said = reading.azExpiresOn ? `${reading.azExpiresOn.toISOString()} from ${reading.azExpirySource}` : 'nothing readable';
    if (reading.azExpiresOn && reading.exp && Math.abs(reading.azExpiresOn.getTime() - reading.exp.getTime()) > expiryToleranceMs) {
      logger.warn(`The Azure CLI says its token expires at ${reading.azExpiresOn.toISOString()}, the token itself says ${reading.exp.toISOString()}; keeping the earlier. This machine's time zone or clock may be off.`);
    }
    logger.debug(`The Azure CLI's token for ${result.account.username} is valid until ${result.expiresOn.toISOString()} (az: ${said}; exp: ${reading.exp?.toISOString() ?? 'none'}).`);
    if (expected && expected.homeAccountId !== '' && expected.homeAccountId !== result.account.homeAccountId) {
      logger.warn(`The Azure CLI is now signed in as ${result.account.username}, not the account this session started with; the kubeconfig follows the Azure CLI.`);
    }
    // az has no switch to force a refresh: MSAL Python inside it serves its cached token until less than five
    // minutes are left. A refresh asked for earlier (the keeper's window is ten minutes by default) gets the same
    // token back; the keeper takes any future expiry and asks again a minute later, until az renews it.
    if (expected?.forceRefresh && result.expiresOn.getTime() - clock.now() > azRenewsWithinMs + 30_000) {
      logger.debug(`The Azure CLI answered from its cache (${Math.round((result.expiresOn.getTime() - clock.now()) / 60_000)} min left); it renews the token once less than 5 min are left.`);
    }
    return result;
  }

  return {
    id: 'azureCli',
    label: 'Azure CLI',
    detail: 'Use the account you signed in to the Azure CLI with (az login). Nothing to approve here; best when az already works for this cluster\'s tenant.',
    store: 'azureCli',
    acquire: (target, _ui, signal) => token(target, signal),
    acquireSilent: (target, homeAccountId, silentOptions) => token(target, undefined, { homeAccountId, forceRefresh: silentOptions?.forceRefresh === true }),
    async signOut() {
      // The sign-in is the person's az login, used by everything else they run: it stays.
    },
  };
}
