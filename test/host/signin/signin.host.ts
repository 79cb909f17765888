// In the extension host: a person's path through the product, step by step. The workbench is driven
// through the harness (keyboard, clicks, what is on screen); the extension's state is read through its API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { AksSignInApi } from '../../../src/extension';

type Started = Awaited<ReturnType<AksSignInApi['whenStarted']>>;
import type { SignInState } from '../../../src/core/session/service';
import { waitFor } from '../../support/wait-for';
import { harness, paletteSteps, workbenchPageId } from '../harness/client';
import { e2eVariable, type E2eSettings } from './settings';

const settings = JSON.parse(process.env[e2eVariable] ?? 'null') as E2eSettings;
const account = 'alice@contoso.onmicrosoft.com';

function kubectl(binary: string, context: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { KUBECONFIG: settings.kubeconfigPath, HOME: mkdtempSync(join(tmpdir(), 'kubectl-home-')), PATH: '' };
    execFile(binary, ['--context', context, 'get', 'namespaces', '-o', 'name'], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function revokeRefreshTokens(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/_test/revoke', settings.identityPlatformUrl), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`revoke answered ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end('{}');
  });
}

/** The value of the `token:` line of the kubeconfig user behind the token-form context. */
function tokenLine(): string | undefined {
  return readFileSync(settings.kubeconfigPath, 'utf8').match(/^ {4}token: .*$/m)?.[0];
}

describe('signing in to AKS in a real VS Code', function () {
  let api: Started;
  let skeleton: string;
  const stateOf = (context: string): SignInState | undefined => api.service.entries().find((entry) => entry.context.name === context)?.state;

  before(async () => {
    assert.ok(settings, `${e2eVariable} is set by the outer test`);
    skeleton = readFileSync(settings.kubeconfigPath, 'utf8');
    const extension = vscode.extensions.getExtension<AksSignInApi>('aks-signin.aks-signin');
    assert.ok(extension);
    api = await (await extension.activate()).whenStarted();
  });

  it('1. lists the workspace kubeconfig contexts as not signed in', async () => {
    await waitFor(() => api.service.kubeconfig.kind === 'loaded', 30_000, 'the kubeconfig is read');
    assert.equal(stateOf(settings.tokenContext)?.kind, 'signedOut');
    assert.equal(stateOf(settings.legacyContext)?.kind, 'signedOut');
    await vscode.commands.executeCommand('workbench.view.extension.aksSignIn');
    await harness.steps(workbenchPageId, [
      { waitFor: `.pane-body >> text=${settings.legacyContext}` },
      { waitForText: 'not signed in' },
      { waitFor: '.statusbar >> text=AKS: not signed in' },
    ]);
  });

  it('2. runs "AKS: Sign In…" from the command palette and shows the code', async () => {
    await harness.steps(workbenchPageId, [
      ...paletteSteps('AKS: Sign In…'),
      // The context pick: both contexts need a sign-in; the first is the current one.
      { waitFor: `.quick-input-widget >> text=${settings.legacyContext}` },
      { press: 'Enter' },
      // The method pick: in a browser tab the device code is offered first.
      { waitFor: '.quick-input-widget >> text=/recommended/' },
      { waitFor: '.quick-input-widget >> text=Device code' },
      { press: 'Enter' },
      // The code is in the status bar too, for as long as the sign-in waits (VS Code shows no modal while
      // extension tests run; windows.test.ts and sandbox.test.ts see the modal a person gets).
      { waitFor: '.statusbar >> text=/AKS: enter code/' },
      { waitFor: '.notifications-toasts >> text=/enter the code/' },
      { waitFor: '.notifications-toasts a >> text=Copy Code and Open' },
    ]);
    await harness.screenshot('02-device-code');
  });

  it('3. approves the code on the device-login page in a second tab', async () => {
    const [toasts] = await harness.steps(workbenchPageId, [{ text: '.notifications-toasts' }]);
    const code = toasts?.match(/enter the code ([A-Z0-9-]{6,})/)?.[1];
    const url = toasts?.match(/(https:\/\/\S+?\/devicelogin)/)?.[1];
    assert.ok(code && url, `the notification shows a URL and a code: ${toasts}`);
    assert.ok(url.startsWith(settings.identityPlatformUrl));
    const page = await harness.openPage(url);
    await harness.steps(page, [{ fill: 'Code', value: code }, { click: 'Next' }, { click: 'Approve' }]);
    await harness.closePage(page);
    await waitFor(() => stateOf(settings.tokenContext)?.kind === 'signedIn' && stateOf(settings.legacyContext)?.kind === 'signedIn', 60_000, 'both contexts are signed in');
  });

  it('4. writes the identity fields that real kubectl uses, and says so in the tree and the status bar', async () => {
    const text = readFileSync(settings.kubeconfigPath, 'utf8');
    assert.match(text, /^ {4}token: "?eyJ/m, 'the exec-kubelogin user now holds a token');
    assert.match(text, /^ {8}access-token: "?eyJ/m, 'the auth-provider user holds the legacy fields');
    assert.match(text, /^ {8}expires-on: "\d{10}"$/m);

    const modern = await kubectl(settings.kubectl133, settings.tokenContext);
    assert.equal(modern.code, 0, modern.stderr);
    assert.match(modern.stdout, /namespace\/kube-system/);
    const legacy = await kubectl(settings.kubectl120, settings.legacyContext);
    assert.equal(legacy.code, 0, legacy.stderr);
    assert.match(legacy.stdout, /namespace\/kube-system/);

    await harness.steps(workbenchPageId, [
      { waitForText: `signed in as ${account}` },
      { waitFor: '.statusbar >> text=/AKS \\d+[ms]/' },
    ]);
    await harness.screenshot('04-signed-in');
  });

  it('5. refreshes before expiry with no user action; a revoked refresh token asks for a new sign-in', async function () {
    this.timeout(240_000);
    const before = tokenLine();
    await waitFor(() => tokenLine() !== before, 180_000, 'the keeper has written a new token');
    const after = await kubectl(settings.kubectl133, settings.tokenContext);
    assert.equal(after.code, 0, after.stderr);

    await revokeRefreshTokens();
    void vscode.commands.executeCommand('aksSignIn.refresh');
    await waitFor(() => stateOf(settings.tokenContext)?.kind === 'needsSignIn', 60_000, 'the refresh failed for good');
    await harness.steps(workbenchPageId, [{ waitFor: '.statusbar >> text=AKS: sign in again' }]);
    await harness.screenshot('05-sign-in-again');
  });

  it('6. Sign Out restores the skeleton byte for byte and empties the token cache', async () => {
    await vscode.commands.executeCommand('aksSignIn.signOut', settings.tokenContext);
    await vscode.commands.executeCommand('aksSignIn.signOut', settings.legacyContext);
    assert.equal(readFileSync(settings.kubeconfigPath, 'utf8'), skeleton);
    assert.equal(await api.cachedAccountCount(), 0);
    await waitFor(() => stateOf(settings.tokenContext)?.kind === 'signedOut' && stateOf(settings.legacyContext)?.kind === 'signedOut', 30_000, 'the contexts show as signed out');
  });
});
