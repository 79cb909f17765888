// What every ARM client test needs: the identity platform double and the ARM double trusting its keys, users
// signed in through real MSAL, and a client with a recording logger whose lines are exactly what the code
// logged.
import { request } from 'node:https';
import { ArmClient, type ArmClientOptions } from '../../../src/core/arm';
import { demoWorld, startArmServer, type ArmServer, type ArmServerOptions, type ArmWorld } from '../../support/arm';
import { signInForArm, type ArmSignIn } from '../../support/arm/token-provider';
import type { IdentityPlatform } from '../../support/identity-platform';
import { RecordingLogger, startPlatform, testCa } from '../auth/harness';

export { ALICE, BOB, CAROL, CONTOSO_TENANT, FABRIKAM_TENANT, RecordingLogger, testCa } from '../auth/harness';

export interface ArmFixture {
  platform: IdentityPlatform;
  arm: ArmServer;
  signIn(username: string, scopes?: string[]): Promise<ArmSignIn>;
  close(): Promise<void>;
}

export async function startArmFixture(options: Partial<Omit<ArmServerOptions, 'tls' | 'trustedKeys' | 'world'>> & { world?: ArmWorld } = {}): Promise<ArmFixture> {
  const platform = await startPlatform();
  const arm = await startArmServer({
    ...options,
    tls: testCa().serverCertificate,
    trustedKeys: () => new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey])),
    world: options.world ?? demoWorld(),
  });
  const signIns = new Map<string, Promise<ArmSignIn>>();
  return {
    platform,
    arm,
    signIn(username, scopes) {
      const key = `${username}|${scopes?.join(' ') ?? ''}`;
      let signIn = signIns.get(key);
      if (!signIn) signIns.set(key, (signIn = signInForArm(platform, username, { ca: testCa().caPem, ...(scopes ? { scopes } : {}) })));
      return signIn;
    },
    async close() {
      await arm.close();
      await platform.close();
    },
  };
}

/** A client of the double for a signed-in user, with quick retries unless the test says otherwise. */
export function clientFor(fixture: ArmFixture, signIn: ArmSignIn, overrides: Partial<ArmClientOptions> = {}): { client: ArmClient; logger: RecordingLogger } {
  const logger = new RecordingLogger();
  const client = new ArmClient({
    endpoint: fixture.arm.url,
    tokenFor: signIn.tokenFor,
    logger,
    ca: [testCa().caPem],
    requestTimeoutMs: 5_000,
    retry: { baseDelayMs: 20 },
    ...overrides,
  });
  return { client, logger };
}

/** One raw request to the double, to see exactly what it answers. */
export function rawRequest(url: string, options: { method?: string; token?: string } = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca: testCa().caPem, headers: { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), 'Content-Length': '0' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, String(value)])),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const all: T[][] = [];
  for await (const page of pages) all.push(page);
  return all;
}

export function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
