// The test CA's server certificate names every loopback address a double may serve on, and a folder left
// by an older run (whose certificate lacks 127.0.0.2) gets a new one under the same CA instead of being
// reused as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa, serverAddresses } from '../../support/tls';

test('the server certificate names 127.0.0.1, 127.0.0.2, ::1 and localhost, and a second call reuses it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = createTestCa(dir);
  const certificate = new X509Certificate(first.serverCertificate.cert);
  assert.deepEqual([...serverAddresses], ['127.0.0.1', '127.0.0.2', '::1']);
  for (const address of serverAddresses) assert.equal(certificate.checkIP(address), address);
  assert.equal(certificate.checkHost('localhost'), 'localhost');
  assert.ok(certificate.checkIssued(new X509Certificate(first.caPem)));
  const second = createTestCa(dir);
  assert.equal(second.serverCertificate.cert, first.serverCertificate.cert);
  assert.equal(second.caPem, first.caPem);
});

test('an older server certificate without 127.0.0.2 is replaced, and the CA stays', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const original = createTestCa(dir);
  // What earlier versions wrote: the same CA, a server certificate for 127.0.0.1 and localhost only.
  writeFileSync(join(dir, 'old.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  execFileSync('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'old.ext'], {
    cwd: dir,
    stdio: 'ignore',
  });
  const old = readFileSync(join(dir, 'server.crt'), 'utf8');
  assert.equal(new X509Certificate(old).checkIP('127.0.0.2'), undefined);

  const renewed = createTestCa(dir);
  assert.notEqual(renewed.serverCertificate.cert, old);
  assert.equal(new X509Certificate(renewed.serverCertificate.cert).checkIP('127.0.0.2'), '127.0.0.2');
  assert.equal(renewed.caPem, original.caPem, 'clients that trust the CA keep trusting the new certificate');
});
