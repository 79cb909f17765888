// What an untrusted folder may decide: before this, aksSignIn.credentialFormat came from the workspace
// (an untrusted folder could force the legacy form and have a refresh token written to disk), and a
// relative path or ${workspaceFolder} in a user setting resolved into the untrusted folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathInRestrictedMode, trustedValue } from '../../src/core/trust';

test('an untrusted workspace\'s own values do not count; the person\'s settings and the default do', () => {
  const inspected = { defaultValue: 'auto', globalValue: undefined, workspaceValue: 'legacy', workspaceFolderValue: 'legacy' };
  assert.equal(trustedValue(inspected, false), 'auto');
  assert.equal(trustedValue({ ...inspected, globalValue: 'token' }, false), 'token');
  assert.equal(trustedValue(inspected, true), 'legacy');
  assert.equal(trustedValue(undefined, false), undefined);
});

test('in Restricted Mode a path from a setting may not point into the untrusted folder', () => {
  for (const value of ['${workspaceFolder}/.kube/config', 'kube/config', './config', '${workspaceFolder:app}/k']) {
    const decision = pathInRestrictedMode('aksSignIn.kubeconfig', value, false);
    assert.equal(decision.ok, false, value);
    assert.match(decision.ok ? '' : decision.reason, /aksSignIn\.kubeconfig.*Restricted Mode/);
  }
  for (const value of ['/home/me/.kube/config', '~/.kube/config', '${userHome}/.kube/config', '~']) {
    assert.deepEqual(pathInRestrictedMode('aksSignIn.kubeconfig', value, false), { ok: true, path: value });
  }
  assert.deepEqual(pathInRestrictedMode('aksSignIn.kubeconfig', 'kube/config', true), { ok: true, path: 'kube/config' });
});
