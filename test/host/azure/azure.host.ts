// In the extension host: a newcomer with VS Code and an Azure account, no az and no kubeconfig, gets from
// nothing to kubectl. The workbench is driven through the harness; files and state are read directly.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parse } from 'yaml';
import type { AksSignInApi } from '../../../src/extension';
import { waitFor } from '../../support/wait-for';
import { harness, paletteSteps, workbenchPageId } from '../harness/client';
import { azureVariable, type AzureSettings } from './settings';

const settings = JSON.parse(process.env[azureVariable] ?? 'null') as AzureSettings;
const account = 'alice@contoso.onmicrosoft.com';
type Started = Awaited<ReturnType<AksSignInApi['whenStarted']>>;

function approve(userCode: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/_test/device-login', settings.identityPlatformUrl), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`device-login answered ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end(JSON.stringify({ userCode, username: account }));
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

function names(list: 'clusters' | 'contexts' | 'users'): string[] {
  const config = parse(readFileSync(settings.kubeconfigPath, 'utf8')) as Record<string, Array<{ name: string }> | undefined>;
  return (config[list] ?? []).map((entry) => entry.name);
}

/** A row of the Clusters view by its label, to open or select it. */
const treeRow = (label: string) => `.pane-body .monaco-list-row >> text="${label}"`;

/** Runs a palette command by its title and waits for the quick pick it opens to show `expect`. */
async function palette(title: string, expect: string): Promise<void> {
  await harness.steps(workbenchPageId, [...paletteSteps(title), { waitFor: `.quick-input-widget >> text=${expect}` }]);
}

describe('from nothing to kubectl with Azure', function () {
  let api: Started;

  before(async () => {
    assert.ok(settings, `${azureVariable} is set by the outer test`);
    const extension = vscode.extensions.getExtension<AksSignInApi>('aks-signin.aks-signin');
    assert.ok(extension);
    api = await (await extension.activate()).whenStarted();
    assert.ok(!existsSync(settings.kubeconfigPath), 'the workspace starts without a kubeconfig');
  });

  it('1. the empty view offers Sign In to Azure, and the device-code sign-in lists the tenant, subscriptions and clusters', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.aksSignIn');
    await harness.steps(workbenchPageId, [{ waitFor: '.pane-body >> text=Sign In to Azure' }]);
    await harness.screenshot('01-no-kubeconfig');
    await harness.steps(workbenchPageId, [{ click: 'Sign In to Azure', role: 'button', within: '.pane-body' }, { waitFor: '.statusbar >> text=/AKS: enter code/' }]);
    const [bar] = await harness.steps(workbenchPageId, [{ text: '.statusbar' }]);
    const code = /AKS: enter code ([A-Z0-9]{6,})/.exec(bar ?? '')?.[1];
    assert.ok(code, `the status bar shows the code: ${bar}`);
    await approve(code);
    await harness.steps(
      workbenchPageId,
      [
        { waitFor: `.pane-body >> text=${account}` },
        { clickOn: treeRow('Azure') },
        { waitFor: '.pane-body >> text=Contoso' },
        { clickOn: treeRow('Contoso') },
        { waitFor: `.pane-body >> text=${settings.subscription}` },
        { clickOn: treeRow(settings.subscription) },
        { waitFor: `.pane-body >> text=${settings.cluster}` },
        { waitForText: 'AKS-managed Entra ID, Azure RBAC, local accounts disabled' },
      ],
      30_000,
    );
    await harness.screenshot('02-azure-tree');
  });

  it('2. Add Cluster from Azure merges the cluster, signs it in with the Azure account, and kubectl works', async () => {
    await palette('AKS: Add Cluster from Azure…', settings.cluster);
    await harness.steps(workbenchPageId, [{ type: settings.cluster }, { press: 'Enter' }, { waitFor: '.notifications-toasts >> text=/Added/' }], 30_000);
    const [toast] = await harness.steps(workbenchPageId, [{ text: '.notifications-toasts' }]);
    assert.match(toast ?? '', new RegExp(`signed in as ${account}`), toast);
    await harness.steps(workbenchPageId, [{ click: 'Use This Context', within: '.notifications-toasts' }]);
    await waitFor(() => /^current-context: aks-shop-prod\s*$/m.test(readFileSync(settings.kubeconfigPath, 'utf8')), 10_000, 'the new context becoming current');
    assert.equal(statSync(settings.kubeconfigPath).mode & 0o777, 0o600, 'a new kubeconfig is readable by its owner only');
    assert.deepEqual(names('contexts'), [settings.cluster]);
    const state = api.service.entries().find((entry) => entry.context.name === settings.cluster)?.state;
    assert.ok(state?.kind === 'signedIn' && state.account === account, `signed in without a second prompt: ${JSON.stringify(state)}`);
    const result = await kubectl(settings.cluster);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /namespace\/kube-system/);
    await harness.steps(workbenchPageId, [{ waitForText: 'in kubeconfig' }]);
    await harness.screenshot('03-added-and-signed-in');
  });

  it('3. the same cluster again, once its entries there differ, asks Replace or Keep Both, and obeys; nothing else changes', async () => {
    // Something of the person's own in the file, and the cluster's entry edited since it was added.
    appendFileSync(settings.kubeconfigPath, '# notes of my own\n');
    const edited = readFileSync(settings.kubeconfigPath, 'utf8').replace(/(server: https:\/\/127\.0\.0\.1:\d+)/, '$1/stale');
    await vscode.workspace.fs.writeFile(vscode.Uri.file(settings.kubeconfigPath), Buffer.from(edited));
    await api.service.reload();
    await palette('AKS: Add Cluster from Azure…', settings.cluster);
    await harness.steps(workbenchPageId, [{ type: settings.cluster }, { press: 'Enter' }, { waitFor: '.quick-input-widget >> text=Keep Both' }], 30_000);
    await harness.screenshot('04-name-exists');
    await harness.steps(workbenchPageId, [{ type: 'Keep Both' }, { press: 'Enter' }, { waitFor: '.notifications-toasts >> text=/aks-shop-prod-2/' }], 30_000);
    assert.deepEqual(names('clusters'), [settings.cluster, `${settings.cluster}-2`]);
    const after = readFileSync(settings.kubeconfigPath, 'utf8');
    assert.ok(after.startsWith(edited.slice(0, edited.indexOf('contexts:'))), 'the first cluster, stale server and all, is byte for byte as it was');
    assert.ok(after.includes('# notes of my own\n'), 'the person\'s comment is still there');
    for (const line of edited.split('\n')) assert.ok(after.includes(line), `kept: ${line}`);
  });
});
