// The session service with every real part under it (kubeconfig engine on real files, the sign-in engine
// through real MSAL against the identity platform double, the keeper on real timers), plus the helpers the
// fault tests need: a recording logger, the token the kubeconfig holds, and a check that it is genuine.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { AuthEngine } from '../../src/core/auth';
import type { SignInUi } from '../../src/core/auth/methods';
import { browserMethod } from '../../src/core/auth/browser';
import { deviceCodeMethod } from '../../src/core/auth/device-code';
import type { Logger } from '../../src/core/ports';
import { systemClock } from '../../src/core/ports';
import { SessionRecordStore } from '../../src/core/session/records';
import { SessionService, type SessionServiceOptions, type SessionSettings, type SignInState, type StateStore } from '../../src/core/session/service';
import type { IdentityPlatform } from '../support/identity-platform';
import { verifyJwt } from '../support/jwt';
import { MemorySecretStore } from '../support/memory-secret-store';
import { deviceCodeUi } from '../support/sign-in-ui';

export class MemoryState implements StateStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

/** Every line at every level, unredacted by us, so a test sees exactly what reached the logger. */
export function recordingLogger(lines: string[]): Logger {
  return {
    trace: (message) => lines.push(message),
    debug: (message) => lines.push(message),
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    error: (message) => lines.push(message),
  };
}

export interface SessionHarness {
  service: SessionService;
  auth: AuthEngine;
  kubeconfig: string;
  secrets: MemorySecretStore;
  state: MemoryState;
  /** The folder of the session store every window of the machine shares. */
  storeDir: string;
  records: SessionRecordStore;
  settings: SessionSettings;
  dispose(): void;
}

export interface HarnessOptions {
  platform: IdentityPlatform;
  /** The CA PEMs the sign-in engine trusts. */
  ca: string[];
  logger: Logger;
  kubeconfig: string;
  /** Written to `kubeconfig` unless `reuse` is given. */
  text?: string;
  requestTimeoutMs?: number;
  /** The stores of an earlier harness, as after a restart of the extension or as a second window. */
  reuse?: Pick<SessionHarness, 'secrets' | 'state' | 'storeDir'>;
  /** The kubectl version the service finds, or a function asked each time it looks. */
  kubectlMinor?: number | (() => number | undefined);
  /** Defaults to a folder beside the kubeconfig. */
  storeDir?: string;
  settings?: Partial<SessionSettings>;
  forgetAfterMs?: number;
  leaseMs?: number;
}

export function sessionHarness(options: HarnessOptions): SessionHarness {
  if (options.text !== undefined) writeFileSync(options.kubeconfig, options.text, { mode: 0o600 });
  const secrets = options.reuse?.secrets ?? new MemorySecretStore();
  const state = options.reuse?.state ?? new MemoryState();
  const storeDir = options.reuse?.storeDir ?? options.storeDir ?? `${options.kubeconfig}.sessions`;
  const settings: SessionSettings = {
    kubeconfigPaths: [options.kubeconfig],
    credentialFormat: 'auto',
    refreshBeforeMinutes: 10,
    authorityHost: options.platform.url,
    ...options.settings,
  };
  const auth = new AuthEngine({ secretStore: secrets, logger: options.logger, ca: options.ca, ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}) });
  const records = new SessionRecordStore({ dir: storeDir, clock: systemClock, logger: options.logger });
  const serviceOptions: SessionServiceOptions = {
    methods: new Map([
      ['deviceCode', deviceCodeMethod(() => auth)],
      ['browser', browserMethod(() => auth)],
    ]),
    clock: systemClock,
    logger: options.logger,
    records,
    legacyState: state,
    settings: () => settings,
    kubectlMinor: async () => (typeof options.kubectlMinor === 'function' ? options.kubectlMinor() : options.kubectlMinor),
    ...(options.forgetAfterMs !== undefined ? { forgetAfterMs: options.forgetAfterMs } : {}),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
  };
  const service = new SessionService(serviceOptions);
  return {
    service,
    auth,
    kubeconfig: options.kubeconfig,
    secrets,
    state,
    storeDir,
    records,
    settings,
    dispose() {
      service.dispose();
      records.dispose();
      auth.dispose();
    },
  };
}

export function approvingPrompt(platform: IdentityPlatform, username: string): SignInUi {
  return deviceCodeUi((info) => void platform.completeDeviceLogin(info.userCode, username, 'approve'));
}

export function stateOf(service: SessionService, contextName: string): SignInState {
  const entry = service.entries().find((candidate) => candidate.context.name === contextName);
  assert.ok(entry, `context ${contextName} is listed`);
  return entry.state;
}

/** The access token the kubeconfig holds for `userName`, in either form. */
export function tokenInKubeconfig(file: string, userName: string): string | undefined {
  const config = parse(readFileSync(file, 'utf8')) as { users?: Array<{ name: string; user: Record<string, unknown> }> };
  const user = config.users?.find((entry) => entry.name === userName)?.user;
  if (typeof user?.['token'] === 'string') return user['token'];
  const provider = user?.['auth-provider'] as { config?: Record<string, unknown> } | undefined;
  const legacy = provider?.config?.['access-token'];
  return typeof legacy === 'string' ? legacy : undefined;
}

/** Fails unless `token` is signed by the platform and not expired: what the API server would accept. */
export function assertGenuine(platform: IdentityPlatform, token: string | undefined): void {
  assert.ok(token !== undefined, 'the kubeconfig holds a token');
  const keys = new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey]));
  const verified = verifyJwt(token, keys);
  assert.ok(verified.ok, `the token is genuine: ${verified.ok ? '' : verified.reason}`);
}

export { waitFor } from '../support/wait-for';
