// The API server double's own contract: it must reject every kind of bad bearer token the way a real
// AKS API server does, or the kubectl tests that rely on it would pass for the wrong reason.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createSigningKey } from '../support/jwt';
import { sha256Hex } from '../support/apiserver';
import { KubectlFixture, newIdentity, startKubectlFixture } from './fixture';

interface Reply {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

function get(fixture: KubectlFixture, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${fixture.server.url}${path}`, { ca: Buffer.from(fixture.caData, 'base64'), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API server double', () => {
  let fixture: KubectlFixture;
  before(async () => {
    fixture = await startKubectlFixture();
  });
  after(() => fixture.close());

  it('serves the namespace list to a verified token and records its subject', async () => {
    const alice = newIdentity('alice');
    const token = fixture.mintToken(alice);
    const reply = await get(fixture, '/api/v1/namespaces?limit=500', { Authorization: `Bearer ${token}` });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.kind, 'NamespaceList');
    const names = (reply.body.items as Array<{ metadata: { name: string } }>).map((item) => item.metadata.name);
    assert.deepEqual(names.slice(0, 2), ['default', 'kube-system']);
    assert.equal(names.length, 3);
    const last = fixture.server.requests.at(-1);
    assert.deepEqual(last, { path: '/api/v1/namespaces', status: 200, subject: alice.upn, tokenSha256: sha256Hex(token) });
  });

  it('answers a Table request with a Table and an aggregated-discovery request with plain discovery', async () => {
    const auth = { Authorization: `Bearer ${fixture.mintToken(newIdentity('bob'))}` };
    const table = await get(fixture, '/api/v1/namespaces', {
      ...auth,
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    });
    assert.equal(table.body.kind, 'Table');
    assert.equal(table.body.apiVersion, 'meta.k8s.io/v1');
    assert.equal((table.body.rows as unknown[]).length, 3);
    const apis = await get(fixture, '/apis', {
      ...auth,
      Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
    });
    assert.equal(apis.body.kind, 'APIGroupList');
    assert.equal(apis.contentType, 'application/json');
    const version = await get(fixture, '/version', auth);
    assert.match(String(version.body.gitVersion), /^v1\.30\.\d+$/);
  });

  const rejections: Array<[string, (fixture: KubectlFixture) => Record<string, string>, string]> = [
    ['no Authorization header', () => ({}), 'no Authorization header'],
    ['a token that is not a JWT', () => ({ Authorization: 'Bearer not-a-jwt' }), 'not a JWT'],
    ['a token signed by an untrusted key', (f) => ({ Authorization: `Bearer ${f.mintToken(newIdentity('eve'), { key: createSigningKey() })}` }), 'unknown signing key'],
    ['an expired token', (f) => ({ Authorization: `Bearer ${f.mintToken(newIdentity('carol'), { expiresInSeconds: -5 })}` }), 'token expired'],
    ['a token for another audience', (f) => ({ Authorization: `Bearer ${f.mintToken(newIdentity('dave'), { audience: 'https://graph.microsoft.com' })}` }), 'wrong audience'],
  ];
  for (const [name, headers, reason] of rejections) {
    it(`rejects ${name} with 401 and a Status body`, async () => {
      const reply = await get(fixture, '/api/v1/namespaces', headers(fixture));
      assert.equal(reply.status, 401);
      assert.equal(reply.body.kind, 'Status');
      assert.equal(reply.body.reason, 'Unauthorized');
      const last = fixture.server.requests.at(-1);
      assert.equal(last?.status, 401);
      assert.equal(last?.authFailure, reason);
      assert.equal(last?.subject, undefined);
    });
  }

  it('rejects a token whose signature was tampered with', async () => {
    const token = fixture.mintToken(newIdentity('mallory'));
    const [header, body] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, upn: 'admin@contoso.example' })).toString('base64url')}.${token.split('.')[2]}`;
    const reply = await get(fixture, '/api/v1/namespaces', { Authorization: `Bearer ${forged}` });
    assert.equal(reply.status, 401);
    assert.equal(fixture.server.requests.at(-1)?.authFailure, 'bad signature');
  });

  it('never puts the token into what it records', async () => {
    const token = fixture.mintToken(newIdentity('frank'));
    await get(fixture, '/version', { Authorization: `Bearer ${token}` });
    assert.ok(!JSON.stringify(fixture.server.requests).includes(token));
  });
});
