import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../support/repo-root';

export const fixtures = join(repoRoot(), 'test', 'fixtures', 'kubeconfig');

export function fixture(name: string): string {
  return join(fixtures, name);
}

/** A fresh folder removed when the test ends. */
export function scratchFolder(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-signin-kubeconfig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A JWT-shaped token whose payload carries `exp` and `tid`; these tests never verify signatures. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.c2lnbmF0dXJl`;
}
