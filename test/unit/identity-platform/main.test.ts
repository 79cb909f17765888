// The standalone program: starts, says where it is in one JSON line, serves with its CA, obeys the HTTP
// controls, and exits cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { demo } from '../../support/identity-platform';
import { httpsRequest } from './fixture';

test('main.js prints its address, serves over the CA it made, and stops on SIGTERM', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'idp-main-'));
  const child = spawn(process.execPath, [join(__dirname, '../../support/identity-platform/main.js'), '--port', '0', '--state-dir', stateDir, '--token-lifetime', '600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { url: string; caPath: string; deviceLoginUrl: string };
    assert.match(started.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(started.deviceLoginUrl, `${started.url}/devicelogin`);
    assert.equal(started.caPath, join(stateDir, 'ca.crt'));
    const caPem = readFileSync(started.caPath, 'utf8');

    const discovery = await httpsRequest(`${started.url}/${demo.CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`, caPem, 'GET');
    assert.equal(discovery.json().issuer, `${started.url}/${demo.CONTOSO_TENANT}/v2.0`);
    const controls = await httpsRequest(`${started.url}/_test/controls`, caPem, 'POST', JSON.stringify({ pollIntervalSeconds: 1 }), 'application/json');
    assert.equal(controls.json().pollIntervalSeconds, 1);
    assert.equal(controls.json().tokenLifetimeSeconds, 600);
    const log = (await httpsRequest(`${started.url}/_test/requests`, caPem, 'GET')).json() as unknown as { path: string }[];
    assert.equal(log.length, 1);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('main.js --host serves on another loopback address, and refuses one that is not loopback', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'idp-main-'));
  const script = join(__dirname, '../../support/identity-platform/main.js');
  const child = spawn(process.execPath, [script, '--state-dir', stateDir, '--host', '127.0.0.2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { url: string; caPath: string };
    assert.match(started.url, /^https:\/\/127\.0\.0\.2:\d+$/);
    const discovery = await httpsRequest(`${started.url}/${demo.NORTHWIND_TENANT}/v2.0/.well-known/openid-configuration`, readFileSync(started.caPath, 'utf8'), 'GET');
    assert.equal(discovery.json().authorization_endpoint, `${started.url}/${demo.NORTHWIND_TENANT}/oauth2/v2.0/authorize`);
    child.kill('SIGTERM');
    assert.deepEqual(await once(child, 'exit'), [0, null]);

    const refused = spawn(process.execPath, [script, '--state-dir', stateDir, '--host', '0.0.0.0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    refused.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    assert.deepEqual(await once(refused, 'exit'), [1, null]);
    assert.match(stderr, /serves loopback addresses only, not 0\.0\.0\.0/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
});
