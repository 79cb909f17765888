// One API server double, its CA and its trusted signing key, shared by the tests of a file.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, startApiServer } from '../support/apiserver';
import { createSigningKey, signJwt, SigningKey } from '../support/jwt';
import { AKS_MANAGED_SERVER_ID } from '../support/kubeconfig-fixtures';
import { createTestCa } from '../support/tls';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

export interface Identity {
  upn: string;
  oid: string;
}

export interface KubectlFixture {
  server: ApiServer;
  /** base64 of the test CA, for a cluster's certificate-authority-data. */
  caData: string;
  /** A fresh folder for this file's kubeconfigs. */
  dir: string;
  /** An access token the API server accepts (unless the claims say otherwise), like Entra ID issues for AKS. */
  mintToken(identity: Identity, options?: { expiresInSeconds?: number; audience?: string; key?: SigningKey }): string;
  close(): Promise<void>;
}

export function newIdentity(name: string): Identity {
  return { upn: `${name}@contoso.example`, oid: randomUUID() };
}

export async function startKubectlFixture(): Promise<KubectlFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-kubectl-'));
  const ca = createTestCa(join(dir, 'ca'));
  const key = createSigningKey();
  const server = await startApiServer({
    tls: ca.serverCertificate,
    trustedKeys: () => new Map([[key.kid, key.publicKey]]),
    audiences: [AKS_MANAGED_SERVER_ID, `spn:${AKS_MANAGED_SERVER_ID}`],
  });
  return {
    server,
    caData: Buffer.from(ca.caPem).toString('base64'),
    dir,
    mintToken(identity, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + (options.expiresInSeconds ?? 3600);
      return signJwt(
        {
          aud: options.audience ?? AKS_MANAGED_SERVER_ID,
          iss: `https://sts.windows.net/${TENANT_ID}/`,
          iat: Math.min(now, exp) - 60,
          nbf: Math.min(now, exp) - 60,
          exp,
          tid: TENANT_ID,
          upn: identity.upn,
          oid: identity.oid,
          scp: 'user.read',
        },
        options.key ?? key,
      );
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
