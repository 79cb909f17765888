// Activation registers the commands and returns; everything else (the kubeconfig engine, the views, the
// keeper) loads right after, off the activation path, and MSAL only on first sign-in or refresh. A
// command that arrives first simply loads it sooner.
import * as vscode from 'vscode';
import { commandIds } from './vscode/commandIds';
import type { Running } from './vscode/main';

export interface AksSignInApi {
  /** The running extension: its service (no tokens are reachable through it) and a count of cached accounts. */
  whenStarted(): Promise<Omit<Running, 'commands'>>;
}

export function activate(context: vscode.ExtensionContext): AksSignInApi {
  const log = vscode.window.createOutputChannel('AKS Sign-In', { log: true });
  context.subscriptions.push(log);
  let running: Running | undefined;
  const start = (): Running => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    running ??= (require('./vscode/main') as typeof import('./vscode/main')).start(context, log);
    return running;
  };
  for (const id of commandIds) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: never[]) => start().commands[id](...args)));
  }
  const startSoon = setTimeout(start, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startSoon) });
  return { whenStarted: async () => start() };
}

export function deactivate(): void {}
