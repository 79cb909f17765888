// The Clusters view: each kubeconfig file, and under it its contexts with their sign-in state.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeState, escapeMarkdown as escape, methodLabel, needsAttention } from '../core/session/describe';
import type { ContextEntry, SessionService, SignInState } from '../core/session/service';

export type ClusterNode = { kind: 'file'; file: string } | { kind: 'context'; entry: ContextEntry };

function iconFor(state: SignInState): vscode.ThemeIcon {
  switch (state.kind) {
    case 'signedIn':
      return state.refreshing ? new vscode.ThemeIcon('sync~spin') : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'signingIn':
      return new vscode.ThemeIcon('loading~spin');
    case 'signedOut':
      return new vscode.ThemeIcon('circle-large-outline');
    case 'notAks':
      return new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground'));
    default:
      return needsAttention(state) ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')) : new vscode.ThemeIcon('key');
  }
}

/** A folder as a person would write it: relative to the workspace when inside it, else with ~ for home. */
function displayFolder(folder: string): string {
  const relative = vscode.workspace.asRelativePath(folder, false);
  if (relative !== folder) return relative;
  const home = os.homedir();
  return folder === home || folder.startsWith(home + path.sep) ? `~${folder.slice(home.length)}` : folder;
}

export class ClusterTreeProvider implements vscode.TreeDataProvider<ClusterNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly service: SessionService) {
    this.subscription = service.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: ClusterNode): ClusterNode[] {
    const entries = this.service.entries();
    if (!node) {
      const status = this.service.kubeconfig;
      return status.kind === 'loaded' ? status.view.files.map((file) => ({ kind: 'file', file })) : [];
    }
    if (node.kind === 'file') {
      return entries.filter((entry) => entry.context.file === node.file).map((entry) => ({ kind: 'context', entry }));
    }
    return [];
  }

  getTreeItem(node: ClusterNode): vscode.TreeItem {
    if (node.kind === 'file') {
      const item = new vscode.TreeItem(path.basename(node.file), vscode.TreeItemCollapsibleState.Expanded);
      item.description = displayFolder(path.dirname(node.file));
      item.resourceUri = vscode.Uri.file(node.file);
      item.iconPath = vscode.ThemeIcon.File;
      item.tooltip = node.file;
      item.contextValue = 'aksSignIn.file';
      return item;
    }
    const { context, user, current, state, warning } = node.entry;
    const item = new vscode.TreeItem(context.name, vscode.TreeItemCollapsibleState.None);
    const now = Date.now();
    const refused = warning?.kind === 'legacyRefused' ? `kubectl 1.${warning.kubectlMinor} refuses this legacy form; switch to the token form` : undefined;
    item.description = `${current ? '(current) ' : ''}${refused ? `${refused} · ` : ''}${describeState(state, now)}`;
    item.iconPath = refused ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')) : iconFor(state);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${escape(context.name)}**${current ? ' (current context)' : ''}\n\n`);
    tooltip.appendMarkdown(`- Cluster: ${escape(context.clusterName)}\n- Server: ${escape(context.server ?? 'unknown')}\n`);
    tooltip.appendMarkdown(`- User: ${escape(context.userName)}\n- State: ${escape(describeState(state, now))}\n`);
    if ('method' in state) tooltip.appendMarkdown(`- Signed in with: ${escape(methodLabel(state.method))}\n`);
    if (user?.credential.kind === 'aks') {
      const { identity } = user.credential;
      tooltip.appendMarkdown(`- Tenant: ${escape(identity.tenantId ?? 'organizations (home tenant)')}\n- Environment: ${escape(identity.environment)}\n`);
    }
    if (refused) tooltip.appendMarkdown(`\n$(warning) ${escape(refused)} (kubectl says "The azure auth plugin has been removed").\n`);
    item.tooltip = tooltip;
    tooltip.supportThemeIcons = true;
    const aks = state.kind === 'notAks' ? 'other' : `aks.${state.kind}`;
    item.contextValue = `aksSignIn.context.${aks}.${current ? 'current' : 'notCurrent'}${refused ? '.legacyRefused' : ''}`;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
