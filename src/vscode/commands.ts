// The commands of the palette, the tree and the status-bar menu. Each takes an optional context name
// (or a tree node) and otherwise asks with a quick pick.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { AuthError } from '../core/auth/errors';
import { KubeconfigError, inspectLock, removeStaleLock, setCurrentContext, type LockFacts } from '../core/kubeconfig';
import { describeState } from '../core/session/describe';
import { messageOf, type ContextEntry, type SessionService } from '../core/session/service';
import { hasSession as stateHasSession, wantsSignIn } from '../core/session/states';
import type { ClusterNode } from './clusterTree';
import type { CommandId } from './commandIds';
import type { SignInMethodId } from '../core/auth/methods';
import type { AzureCommands } from './azureCommands';
import { chooseMethod, type MethodsHere } from './methodPick';
import { copyCodeAndOpen, runSignIn } from './signInFlow';
import { kubeconfigLocation, knownKubeconfigs } from './settings';

type ContextArgument = string | ClusterNode | undefined;

interface ContextPick extends vscode.QuickPickItem {
  entry: ContextEntry;
}

function contextNameOf(argument: ContextArgument): string | undefined {
  if (typeof argument === 'string') return argument;
  if (argument?.kind === 'context') return argument.entry.context.name;
  return undefined;
}

async function pickContext(
  service: SessionService,
  argument: ContextArgument,
  title: string,
  eligible: (entry: ContextEntry) => boolean,
  emptyMessage: string,
  /** Why the context a person would expect (the current one) is not offered; said instead of picking silently. */
  notOffered?: string,
): Promise<string | undefined> {
  const given = contextNameOf(argument);
  if (given) return given;
  const candidates = service.entries().filter(eligible);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(notOffered ?? emptyMessage);
    return undefined;
  }
  if (candidates.length === 1 && notOffered === undefined) return candidates[0]!.context.name;
  const now = Date.now();
  const picked = await vscode.window.showQuickPick<ContextPick>(
    candidates.map((entry) => ({
      entry,
      label: entry.context.name,
      description: `${entry.current ? '(current) ' : ''}${describeState(entry.state, now)}`,
      detail: `cluster ${entry.context.clusterName} · ${entry.context.server ?? 'no server'} · user ${entry.context.userName}`,
    })),
    { title: notOffered ? `${title}: ${notOffered}` : title, placeHolder: notOffered ? 'Choose another context' : 'Choose a context', matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.entry.context.name;
}

const isAks = (entry: ContextEntry) => entry.state.kind !== 'notAks';
const hasSession = (entry: ContextEntry) => stateHasSession(entry.state);
const needsSignIn = (entry: ContextEntry) => wantsSignIn(entry.state);

/** Why the current context cannot be signed in, when it cannot: a person expects it to be the one. */
function currentContextProblem(service: SessionService): string | undefined {
  const status = service.kubeconfig;
  const current = status.kind === 'loaded' ? status.view.currentContext : undefined;
  return current === undefined ? undefined : service.whyNotSignable(current);
}

/** An extra button on a failure message, offered when it is the fix. */
interface FailureAction {
  title: string;
  run(): unknown;
}

/** A lock left by a writer that died blocks kubectl too: offer to remove it, once we know it is stale. */
function staleLockFix(file: string, lock: LockFacts | undefined, retry?: () => unknown): FailureAction | undefined {
  if (!lock?.stale) return undefined;
  return {
    title: 'Remove Stale Lock',
    async run() {
      if (await removeStaleLock(file, lock)) {
        void vscode.window.showInformationMessage(`Removed ${lock.path}, left ${Math.round(lock.ageMs / 1000)} s ago by a writer that is gone.`);
        retry?.();
      } else {
        void vscode.window.showWarningMessage(`${lock.path} changed since it was reported, so it was left alone: another program may be writing the kubeconfig now.`);
      }
    },
  };
}

async function showFailure(action: string, error: unknown, retry?: () => unknown, fix?: FailureAction): Promise<void> {
  if (error instanceof AuthError && error.kind === 'cancelled') {
    void vscode.window.showInformationMessage(`${action} cancelled.`);
    return;
  }
  if (error instanceof KubeconfigError && error.kind === 'locked') fix ??= staleLockFix(error.file, error.lock, retry);
  const buttons = [...(fix ? [fix.title] : []), ...(retry ? ['Try Again'] : []), 'Show Log'];
  const choice = await vscode.window.showErrorMessage(`${action} failed: ${messageOf(error)}`, ...buttons);
  if (fix && choice === fix.title) fix.run();
  if (choice === 'Try Again') retry?.();
  if (choice === 'Show Log') void vscode.commands.executeCommand('aksSignIn.showLog');
}

/** The method for a sign-in of this context: the setting's, else a pick with the likely one first. */
function methodFor(service: SessionService, here: MethodsHere, contextName: string): Promise<SignInMethodId | undefined> {
  const entry = service.entries().find((candidate) => candidate.context.name === contextName);
  const loginMode = entry?.user?.credential.kind === 'aks' ? entry.user.credential.identity.loginMode : undefined;
  const remembered = entry && 'method' in entry.state ? entry.state.method : undefined;
  return chooseMethod(here, { title: `AKS: Sign In to "${contextName}"`, ...(loginMode ? { loginMode } : {}), ...(remembered ? { remembered } : {}) });
}

export type CommandHandlers = Record<CommandId, (...args: never[]) => unknown>;

export function commandHandlers(service: SessionService, log: vscode.LogOutputChannel, here: MethodsHere, azure: AzureCommands): CommandHandlers {
  const signIn = async (argument?: ContextArgument, method?: SignInMethodId): Promise<void> => {
    // With no argument the quick pick is skipped only when exactly one context still needs signing in.
    const contextName =
      contextNameOf(argument) ??
      (await pickContext(service, undefined, 'AKS: Sign In', service.entries().some(needsSignIn) ? needsSignIn : isAks, 'The kubeconfig has no AKS context to sign in to.', currentContextProblem(service)));
    if (!contextName) return;
    const chosen = method ?? (await methodFor(service, here, contextName));
    if (!chosen) return;
    try {
      const outcome = await runSignIn(service, contextName, chosen, { askedByPerson: true });
      const others = outcome.alsoSignedIn.length > 0 ? ` Also signed in: ${outcome.alsoSignedIn.join(', ')}.` : '';
      const how = here.methods.get(outcome.method)?.label.toLowerCase() ?? outcome.method;
      void vscode.window.showInformationMessage(
        `Signed in to "${contextName}" as ${outcome.account} (${how}). The kubeconfig holds the ${outcome.format} form because ${outcome.formatReason}.${others}${outcome.fileNote ? ` ${outcome.fileNote}` : ''}`,
      );
    } catch (error) {
      log.warn(`Sign-in to "${contextName}" failed: ${messageOf(error)}`);
      // A policy that refuses device codes usually accepts the browser: one click to it.
      const refused = error instanceof AuthError && error.kind === 'blocked' && chosen === 'deviceCode';
      const browser = refused && here.methods.has('browser') ? { title: 'Sign In with a Browser Instead', run: () => signIn(contextName, 'browser') } : undefined;
      await showFailure('Sign-in', error, () => signIn(contextName, chosen), browser);
    }
  };

  const signOut = async (argument?: ContextArgument): Promise<void> => {
    const contextName = await pickContext(service, argument, 'AKS: Sign Out', hasSession, 'No AKS context is signed in.');
    if (!contextName) return;
    try {
      await service.signOut(contextName);
      void vscode.window.showInformationMessage(`Signed out of "${contextName}". Its kubeconfig user is back to what it was before sign-in.`);
    } catch (error) {
      await showFailure('Sign-out', error);
    }
  };

  const refresh = async (argument?: ContextArgument): Promise<void> => {
    const contextName = contextNameOf(argument);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'AKS: refreshing tokens' }, () => service.refresh(contextName));
      const entries = service.entries().filter((entry) => (contextName ? entry.context.name === contextName : hasSession(entry)));
      const failed = entries.filter((entry) => entry.state.kind !== 'signedIn');
      if (failed.length > 0) {
        const now = Date.now();
        const words = new Error(failed.map((entry) => `${entry.context.name}: ${describeState(entry.state, now)}`).join('; '));
        // A refresh that waits on a lock whose writer died: the lock itself can be offered for removal.
        const files = [...new Set(failed.flatMap((entry) => (entry.user ? [entry.user.file] : [])))];
        const stale = (await Promise.all(files.map(async (file) => ({ file, lock: await inspectLock(file) })))).find((found) => found.lock?.stale);
        const fix = stale ? staleLockFix(stale.file, stale.lock, () => refresh(argument)) : undefined;
        await showFailure('Refresh', words, undefined, fix);
      } else if (entries.length === 0) {
        void vscode.window.showInformationMessage('No AKS context is signed in, so there is nothing to refresh.');
      }
    } catch (error) {
      await showFailure('Refresh', error);
    }
  };

  const selectKubeconfig = async (): Promise<void> => {
    const current = kubeconfigLocation().paths[0];
    const browse = '$(folder-opened) Browse…';
    const defaultPath = `${os.homedir()}/.kube/config`;
    const choices = [...new Set([...knownKubeconfigs(), ...kubeconfigLocation().paths, defaultPath])];
    const picked = await vscode.window.showQuickPick(
      [...choices.map((path) => ({ label: path, description: path === current ? '(in use)' : undefined })), { label: browse }],
      { title: 'AKS: Select Kubeconfig', placeHolder: 'The kubeconfig whose AKS users are signed in and kept current' },
    );
    if (!picked) return;
    let chosen = picked.label;
    if (chosen === browse) {
      const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use This Kubeconfig', defaultUri: current ? vscode.Uri.file(current) : undefined });
      if (!uris?.[0]) return;
      chosen = uris[0].fsPath;
    }
    const target = vscode.workspace.isTrusted && vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('aksSignIn').update('kubeconfig', chosen, target);
  };

  const openKubeconfig = async (argument?: ClusterNode): Promise<void> => {
    const status = service.kubeconfig;
    const file = argument?.kind === 'file' ? argument.file : status.kind === 'loaded' ? status.view.files[0] : status.paths[0];
    if (!file) {
      void vscode.window.showInformationMessage('No kubeconfig is in use. Select one first.');
      return;
    }
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(file));
    } catch (error) {
      await showFailure(`Opening ${file}`, error);
    }
  };

  const useContext = async (argument?: ContextArgument): Promise<void> => {
    const contextName = await pickContext(service, argument, 'AKS: Use Context', (entry) => !entry.current, 'There is no other context to switch to.');
    const status = service.kubeconfig;
    if (!contextName || status.kind !== 'loaded') return;
    try {
      // kubectl reads current-context from the first file of the list, so that is where it is set.
      await setCurrentContext(status.view.files[0]!, contextName);
      await service.reload();
      vscode.window.setStatusBarMessage(`kubectl now uses the context "${contextName}".`, 5000);
    } catch (error) {
      await showFailure('Switching context', error);
    }
  };

  const useTokenForm = async (argument?: ContextArgument): Promise<void> => {
    const contextName = contextNameOf(argument);
    if (!contextName) return;
    try {
      await service.changeFormat(contextName, 'token');
      void vscode.window.showInformationMessage(`"${contextName}" now holds a token, which every kubectl reads. It stays in that form.`);
    } catch (error) {
      await showFailure('Switching to the token form', error);
    }
  };

  const copyServerUrl = async (argument?: ContextArgument): Promise<void> => {
    const contextName = contextNameOf(argument);
    const server = service.entries().find((entry) => entry.context.name === contextName)?.context.server;
    if (server) await vscode.env.clipboard.writeText(server);
  };

  const statusMenu = async (): Promise<void> => {
    const actions: (vscode.QuickPickItem & { command: string })[] = [
      { label: '$(refresh) Refresh Tokens Now', command: 'aksSignIn.refresh' },
      { label: '$(sign-in) Sign In…', command: 'aksSignIn.signIn' },
      { label: '$(sign-out) Sign Out…', command: 'aksSignIn.signOut' },
      { label: '$(output) Show Log', command: 'aksSignIn.showLog' },
    ];
    const picked = await vscode.window.showQuickPick(actions, { title: 'AKS Sign-In' });
    if (picked) await vscode.commands.executeCommand(picked.command);
  };

  return {
    'aksSignIn.signIn': signIn,
    'aksSignIn.signOut': signOut,
    'aksSignIn.refresh': refresh,
    'aksSignIn.selectKubeconfig': selectKubeconfig,
    'aksSignIn.openKubeconfig': openKubeconfig,
    'aksSignIn.useContext': useContext,
    'aksSignIn.showLog': () => log.show(),
    'aksSignIn.copyServerUrl': copyServerUrl,
    'aksSignIn.statusMenu': statusMenu,
    'aksSignIn.copyCodeAndOpen': copyCodeAndOpen,
    'aksSignIn.useTokenForm': useTokenForm,
    'aksSignIn.signInToAzure': azure.signInToAzure,
    'aksSignIn.addClusterFromAzure': azure.addClusterFromAzure,
    'aksSignIn.getCredentials': azure.getCredentials,
    'aksSignIn.signOutOfAzure': azure.signOutOfAzure,
  };
}
