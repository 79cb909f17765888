// Runs in the extension host: waits for VS Code to activate the extension on its own (onStartupFinished),
// then reads the activation times VS Code itself measured from "Developer: Show Running Extensions".
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { harness, workbenchPageId } from '../../test/host/harness/client';
import { activationResultVariable } from './result';


async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the extension was not activated at startup');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension('aks-signin.aks-signin');
  if (!extension) throw new Error('aks-signin.aks-signin is not loaded');
  await waitUntil(() => extension.isActive, 60_000);
  await vscode.commands.executeCommand('workbench.action.showRuntimeExtensions');
  const [text] = await harness.steps(workbenchPageId, [
    { waitFor: '.runtime-extensions-editor >> text=aks-signin.aks-signin' },
    { text: '.runtime-extensions-editor' },
  ]);
  await harness.screenshot('running-extensions');
  const output = process.env[activationResultVariable];
  if (!output) throw new Error(`${activationResultVariable} is not set`);
  writeFileSync(output, JSON.stringify({ editorText: text ?? '' }));
}
