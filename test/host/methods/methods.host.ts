// In the extension host: the sign-in methods a person uses where device codes are blocked or not needed.
// The workbench and the pages the browser opens are driven through the harness; the extension's state is
// read through its API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parse } from 'yaml';
import type { AksSignInApi } from '../../../src/extension';
import type { SignInState } from '../../../src/core/session/service';
import { waitFor } from '../../support/wait-for';
import { harness, paletteSteps, workbenchPageId } from '../harness/client';
import { methodsVariable, type MethodsSettings } from './settings';

const settings = JSON.parse(process.env[methodsVariable] ?? 'null') as MethodsSettings;
type Started = Awaited<ReturnType<AksSignInApi['whenStarted']>>;

function postToPlatform(path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, settings.identityPlatformUrl), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path} answered ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

function kubectl(context: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { KUBECONFIG: settings.kubeconfigPath, HOME: mkdtempSync(join(tmpdir(), 'kubectl-home-')), PATH: '' };
    execFile(settings.kubectl133, ['--context', context, 'get', 'namespaces', '-o', 'name'], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function assertKubectlWorks(context: string): Promise<void> {
  const result = await kubectl(context);
  assert.equal(result.code, 0, `kubectl 1.33 --context ${context}: ${result.stderr}`);
  assert.match(result.stdout, /namespace\/kube-system/);
}

/** The claims of the token the kubeconfig user behind `context` holds. */
function claimsFor(context: string): Record<string, unknown> {
  const config = parse(readFileSync(settings.kubeconfigPath, 'utf8')) as {
    contexts: Array<{ name: string; context: { user: string } }>;
    users: Array<{ name: string; user: { token?: string } }>;
  };
  const userName = config.contexts.find((entry) => entry.name === context)?.context.user;
  const token = config.users.find((entry) => entry.name === userName)?.user.token;
  assert.ok(token, `the user of ${context} holds a token`);
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('signing in without a device code', function () {
  let api: Started;
  const stateOf = (context: string): SignInState | undefined => api.service.entries().find((entry) => entry.context.name === context)?.state;

  before(async () => {
    assert.ok(settings, `${methodsVariable} is set by the outer test`);
    const extension = vscode.extensions.getExtension<AksSignInApi>('aks-signin.aks-signin');
    assert.ok(extension);
    api = await (await extension.activate()).whenStarted();
    await waitFor(() => api.service.kubeconfig.kind === 'loaded', 30_000, 'the kubeconfig is read');
  });

  it('1. Sign In with the browser: the page openExternal opens, the loopback redirect, kubectl works', async () => {
    await harness.steps(workbenchPageId, [
      ...paletteSteps('AKS: Sign In…'),
      { waitFor: `.quick-input-widget >> text=${settings.blockedContext}` },
      { type: settings.browserContext },
    ]);
    // The extension opens the page itself (vscode.env.openExternal); the test takes the tab the browser opened.
    const opened = await harness.expectPage(`${settings.identityPlatformUrl}/`);
    await harness.steps(workbenchPageId, [{ press: 'Enter' }, { waitFor: '.statusbar >> text=/finish signing in in your browser/' }]);
    await harness.screenshot('01-browser-waiting');
    const { pageId, url } = await opened.take(30_000);
    assert.match(url, /\/oauth2\/v2\.0\/authorize\?/);
    assert.equal(new URL(url).searchParams.get('code_challenge_method'), 'S256');
    await harness.steps(pageId, [{ waitForText: 'Pick an account' }, { click: 'Accept' }, { waitForText: 'You are signed in' }]);
    await harness.screenshot('02-browser-done', pageId);
    await harness.closePage(pageId);
    await waitFor(() => stateOf(settings.browserContext)?.kind === 'signedIn', 30_000, 'the context is signed in');
    const state = stateOf(settings.browserContext);
    assert.ok(state?.kind === 'signedIn' && state.method === 'browser');
    await assertKubectlWorks(settings.browserContext);
  });

  it('2. a tenant that blocks device codes: the refusal offers the browser, and one click signs in', async () => {
    void vscode.commands.executeCommand('aksSignIn.signIn', settings.blockedContext, 'deviceCode');
    // VS Code shows no modal while extension tests run (windows.test.ts and sandbox.test.ts see it); the
    // status bar carries the code as well, which is what Do Not Disturb leaves.
    await harness.steps(workbenchPageId, [{ waitFor: '.statusbar >> text=/AKS: enter code/' }]);
    const [bar] = await harness.steps(workbenchPageId, [{ text: '.statusbar' }]);
    const code = /AKS: enter code ([A-Z0-9]{6,})/.exec(bar ?? '')?.[1];
    assert.ok(code, `the status bar shows the code: ${bar}`);
    await postToPlatform('/_test/device-login', { userCode: code, username: 'nina@northwind.onmicrosoft.com' });
    await harness.steps(workbenchPageId, [
      { waitFor: '.notifications-toasts >> text=/Conditional Access/' },
      { waitFor: '.notifications-toasts >> text=Sign In with a Browser Instead' },
    ]);
    await harness.screenshot('03-blocked-offers-browser');
    const opened = await harness.expectPage(`${settings.identityPlatformUrl}/`);
    await harness.steps(workbenchPageId, [{ click: 'Sign In with a Browser Instead', within: '.notifications-toasts' }]);
    const { pageId } = await opened.take(30_000);
    await harness.steps(pageId, [{ waitForText: 'nina@northwind.onmicrosoft.com' }, { click: 'Accept' }, { waitForText: 'You are signed in' }]);
    await harness.closePage(pageId);
    await waitFor(() => stateOf(settings.blockedContext)?.kind === 'signedIn', 30_000, 'the blocked tenant signed in with the browser');
    assert.equal(claimsFor(settings.blockedContext)['upn'], 'nina@northwind.onmicrosoft.com');
    await assertKubectlWorks(settings.blockedContext);
  });

  it('3. the Azure CLI: no prompt at all, the token of the account az is logged in with, asked again on refresh', async () => {
    await vscode.commands.executeCommand('aksSignIn.signIn', settings.azureCliContext, 'azureCli');
    const state = stateOf(settings.azureCliContext);
    assert.ok(state?.kind === 'signedIn', `signed in: ${JSON.stringify(state)}`);
    assert.equal(state.method, 'azureCli');
    assert.equal(state.account, settings.azureCliUser);
    const claims = claimsFor(settings.azureCliContext);
    assert.equal(claims['azp'] ?? claims['appid'], '04b07795-8ddb-461a-bbee-02f9e1bf7b46', 'the token is the Azure CLI\'s');
    await assertKubectlWorks(settings.azureCliContext);
    await api.service.refresh(settings.azureCliContext);
    assert.equal(stateOf(settings.azureCliContext)?.kind, 'signedIn');
    await vscode.commands.executeCommand('workbench.view.extension.aksSignIn');
    await harness.steps(workbenchPageId, [{ waitForText: `signed in as ${settings.azureCliUser}` }]);
    await harness.screenshot('04-methods-tree');
  });
});
