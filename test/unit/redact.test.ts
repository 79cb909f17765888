import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, redactingLogger } from '../../src/core/redact';
import { createSigningKey, signJwt } from '../support/jwt';

describe('redactSecrets', () => {
  const jwt = signJwt({ sub: 'someone', exp: 2_000_000_000 }, createSigningKey());

  it('removes JWT-shaped strings wherever they appear', () => {
    const redacted = redactSecrets(`Authorization: Bearer ${jwt} and again (${jwt})`);
    assert.ok(!redacted.includes(jwt));
    assert.match(redacted, /Bearer \[redacted token\] and again \(\[redacted token\]\)/);
  });

  it('removes token values in form bodies and JSON', () => {
    const form = 'grant_type=refresh_token&refresh_token=0.AbCdEf-123_xyz&client_id=abc';
    assert.equal(redactSecrets(form), 'grant_type=refresh_token&refresh_token=[redacted]&client_id=abc');
    const json = '{"access_token":"opaque-value","refresh_token": "0.Aabc","expires_in":3600}';
    const redacted = redactSecrets(json);
    assert.ok(!redacted.includes('opaque-value') && !redacted.includes('0.Aabc'));
    assert.match(redacted, /"expires_in":3600/);
  });

  it('removes token values in kubeconfig text, quoted or not', () => {
    assert.equal(redactSecrets('        refresh-token: "opaque-refresh-123456"'), '        refresh-token: "[redacted]"');
    assert.equal(redactSecrets('    token: sha256~abcdefghijklmnop'), '    token: [redacted]');
    assert.equal(redactSecrets('user: {token: opaque-static-token}'), 'user: {token: [redacted]}');
  });

  it('leaves ordinary text alone', () => {
    const text = 'Signed in as alice@contoso.onmicrosoft.com (tenant 3f2a6c1e-8b4d-4e7a-9c51-2d0f6b8a7e10); expires 2025-01-06T10:00:00.000Z.';
    assert.equal(redactSecrets(text), text);
    const refreshed = 'Refreshed prod-aks (alice@contoso.example) in 212 ms; the token now expires at 10:41';
    assert.equal(redactSecrets(refreshed), refreshed);
  });
});

describe('redactingLogger', () => {
  it('redacts every level before the line reaches the logger under it', () => {
    const lines: string[] = [];
    const sink = (line: string) => void lines.push(line);
    const logger = redactingLogger({ trace: sink, debug: sink, info: sink, warn: sink, error: sink });
    const jwt = signJwt({ sub: 'x' }, createSigningKey());
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) logger[level](`${level} ${jwt}`);
    assert.deepEqual(lines, ['trace', 'debug', 'info', 'warn', 'error'].map((level) => `${level} [redacted token]`));
  });
});
