// What every engine test needs: a test CA, an identity platform on loopback, an engine over an in-memory
// SecretStore, and a prompt that answers the device-login page the way a person would.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthEngine } from '../../../src/core/auth';
import type { AuthTarget } from '../../../src/core/auth';
import type { DeviceCodeInfo, DeviceCodePrompt, Logger } from '../../../src/core/ports';
import { demo, startIdentityPlatform } from '../../support/identity-platform';
import type { IdentityPlatform, IdentityPlatformOptions } from '../../support/identity-platform';
import { MemorySecretStore } from '../../support/memory-secret-store';
import { createTestCa } from '../../support/tls';
import type { TestCa } from '../../support/tls';

export const { CONTOSO_TENANT, FABRIKAM_TENANT, NORTHWIND_TENANT, AKS_SERVER_APP_ID, AKS_CLIENT_APP_ID } = demo;
export const ALICE = 'alice@contoso.onmicrosoft.com';
export const BOB = 'bob@contoso.onmicrosoft.com';
export const MALLORY = 'mallory@contoso.onmicrosoft.com';
export const CAROL = 'carol@fabrikam.onmicrosoft.com';
export const NINA = 'nina@northwind.onmicrosoft.com';
/** A second public client app, as a cluster with its own Entra app registration has. */
export const OTHER_CLIENT_ID = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

let sharedCa: TestCa | undefined;
export function testCa(): TestCa {
  sharedCa ??= createTestCa(mkdtempSync(join(tmpdir(), 'aks-signin-auth-ca-')));
  return sharedCa;
}

export async function startPlatform(options: Partial<IdentityPlatformOptions> = {}): Promise<IdentityPlatform> {
  const ca = testCa();
  const platform = await startIdentityPlatform({ tls: { ...ca.serverCertificate, ca: ca.caPem }, ...options });
  // Keep device-code tests fast: MSAL waits `interval` seconds between polls.
  platform.controls.pollIntervalSeconds = 0.2;
  return platform;
}

export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  trace(message: string): void {
    this.lines.push(`trace ${message}`);
  }
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

export function newEngine(store = new MemorySecretStore(), logger = new RecordingLogger()): { engine: AuthEngine; store: MemorySecretStore; logger: RecordingLogger } {
  const engine = new AuthEngine({ secretStore: store, logger, ca: [testCa().caPem], requestTimeoutMs: 5_000 });
  return { engine, store, logger };
}

export function targetFor(platform: IdentityPlatform, overrides: Partial<AuthTarget> = {}): AuthTarget {
  return {
    environment: 'AzurePublicCloud',
    tenantId: CONTOSO_TENANT,
    clientId: AKS_CLIENT_APP_ID,
    serverId: AKS_SERVER_APP_ID,
    authorityHost: platform.url,
    ...overrides,
  };
}

/** A prompt that records what it was shown and, unless told to stay idle, approves or declines on the page. */
export class DeviceLoginPerson implements DeviceCodePrompt {
  readonly shown: DeviceCodeInfo[] = [];
  private pageVisit: Promise<void> | undefined;

  constructor(
    private readonly platform: IdentityPlatform,
    private readonly username: string | undefined,
    private readonly decision: 'approve' | 'decline' = 'approve',
  ) {}

  show(info: DeviceCodeInfo): void {
    this.shown.push(info);
    if (this.username) this.pageVisit = this.platform.completeDeviceLogin(info.userCode, this.username, this.decision);
  }

  /** Rethrows anything that went wrong on the device-login page, so a broken page fails the test loudly. */
  async settled(): Promise<void> {
    await this.pageVisit;
  }
}

export async function signInAs(engine: AuthEngine, platform: IdentityPlatform, target: AuthTarget, username: string) {
  const person = new DeviceLoginPerson(platform, username);
  const result = await engine.signIn(target, person);
  await person.settled();
  return result;
}

export function tokenRequests(platform: IdentityPlatform, grantType?: string) {
  return platform.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token') && (grantType === undefined || request.grantType === grantType));
}

export function decodeClaims(jwt: string): Record<string, unknown> {
  const body = jwt.split('.')[1];
  if (!body) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
}
