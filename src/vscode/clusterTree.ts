// The Clusters view: each kubeconfig file, and under it its contexts with their sign-in state.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeState, escapeMarkdown as escape, methodLabel, needsAttention } from '../core/session/describe';
import type { ClusterSummary, SubscriptionSummary, TenantSummary } from '../core/arm';
import type { ContextEntry, SessionService, SignInState } from '../core/session/service';
import { entraIdWords, type AzureModel, type Loaded } from './azure';

export type ClusterNode =
  | { kind: 'file'; file: string }
  | { kind: 'context'; entry: ContextEntry }
  | { kind: 'azure' }
  | { kind: 'tenant'; tenant: TenantSummary }
  | { kind: 'subscription'; subscription: SubscriptionSummary }
  | { kind: 'azureCluster'; cluster: ClusterSummary }
  | { kind: 'azureNote'; text: string; failed?: boolean; command?: vscode.Command };

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

  constructor(
    private readonly service: SessionService,
    private readonly azure: AzureModel,
  ) {
    const sessions = service.onDidChange(() => this.changed.fire(undefined));
    const arm = azure.onDidChange(() => this.changed.fire(undefined));
    this.subscription = { dispose: () => (sessions.dispose(), arm.dispose()) };
  }

  getChildren(node?: ClusterNode): ClusterNode[] {
    const entries = this.service.entries();
    if (!node) {
      const status = this.service.kubeconfig;
      const files: ClusterNode[] = status.kind === 'loaded' ? status.view.files.map((file) => ({ kind: 'file', file })) : [];
      // With no kubeconfig and no Azure sign-in the view stays empty, so its welcome text (which offers both) shows.
      return files.length > 0 || this.azure.account ? [...files, { kind: 'azure' }] : [];
    }
    switch (node.kind) {
      case 'file':
        return entries.filter((entry) => entry.context.file === node.file).map((entry) => ({ kind: 'context', entry }));
      case 'azure':
        if (!this.azure.account) return [{ kind: 'azureNote', text: 'Sign in to Azure to list your AKS clusters…', command: { title: 'Sign In to Azure…', command: 'aksSignIn.signInToAzure' } }];
        return listed(this.azure.tenantList(), (tenant) => ({ kind: 'tenant', tenant }), 'No tenant: the account belongs to no directory it can list.');
      case 'tenant':
        return listed(this.azure.subscriptionList(node.tenant.tenantId), (subscription) => ({ kind: 'subscription', subscription }), 'No subscription here: ask for the Reader role on one, or open another tenant.');
      case 'subscription':
        return listed(this.azure.clusterList(node.subscription), (cluster) => ({ kind: 'azureCluster', cluster }), 'No AKS cluster in this subscription.');
      default:
        return [];
    }
  }

  /** Whether `az aks get-credentials` (or Get Credentials here) already put this cluster in the kubeconfig. */
  private inKubeconfig(cluster: ClusterSummary): boolean {
    const user = `clusterUser_${cluster.resourceGroup}_${cluster.name}`;
    const hosts = [cluster.fqdn, cluster.privateFqdn].filter((host): host is string => host !== undefined).map((host) => host.toLowerCase());
    return this.service.entries().some((entry) => {
      if (entry.context.userName === user) return true;
      const server = entry.context.server;
      return server !== undefined && hosts.some((host) => server.toLowerCase().includes(`//${host}`));
    });
  }

  getTreeItem(node: ClusterNode): vscode.TreeItem {
    switch (node.kind) {
      case 'azure': {
        const account = this.azure.account;
        const item = new vscode.TreeItem('Azure', vscode.TreeItemCollapsibleState.Collapsed);
        item.description = account ? `${account.username} (${methodLabel(account.method)})` : 'not signed in';
        item.iconPath = new vscode.ThemeIcon('azure');
        item.contextValue = account ? 'aksSignIn.azure.signedIn' : 'aksSignIn.azure.signedOut';
        return item;
      }
      case 'tenant': {
        const item = new vscode.TreeItem(node.tenant.displayName ?? node.tenant.tenantId, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = node.tenant.defaultDomain ?? node.tenant.tenantId;
        item.tooltip = `Tenant ${node.tenant.tenantId}`;
        item.iconPath = new vscode.ThemeIcon('organization');
        item.contextValue = 'aksSignIn.tenant';
        return item;
      }
      case 'subscription': {
        const item = new vscode.TreeItem(node.subscription.displayName, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = node.subscription.state === 'Enabled' ? node.subscription.subscriptionId : `${node.subscription.state} · ${node.subscription.subscriptionId}`;
        item.iconPath = new vscode.ThemeIcon('key');
        item.contextValue = 'aksSignIn.subscription';
        return item;
      }
      case 'azureCluster': {
        const { cluster } = node;
        const known = this.inKubeconfig(cluster);
        const item = new vscode.TreeItem(cluster.name, vscode.TreeItemCollapsibleState.None);
        item.description = `${cluster.resourceGroup} · ${cluster.location} · ${cluster.kubernetesVersion ?? '?'} · ${entraIdWords(cluster)}${known ? ' · in kubeconfig' : ''}`;
        const tooltip = new vscode.MarkdownString(`**${escape(cluster.name)}**\n\n`);
        tooltip.appendMarkdown(`- Resource group: ${escape(cluster.resourceGroup)}\n- Location: ${escape(cluster.location)}\n- Kubernetes: ${escape(cluster.kubernetesVersion ?? 'unknown')}\n`);
        tooltip.appendMarkdown(`- Sign-in: ${escape(entraIdWords(cluster))}\n- API server: ${escape(cluster.fqdn ?? cluster.privateFqdn ?? 'none')}${cluster.isPrivate ? ' (private)' : ''}\n`);
        tooltip.appendMarkdown(known ? '- Already in the kubeconfig\n' : '- Not in the kubeconfig yet: Get Credentials adds it\n');
        item.tooltip = tooltip;
        item.iconPath = new vscode.ThemeIcon(known ? 'pass' : 'cloud');
        item.contextValue = `aksSignIn.azureCluster.${known ? 'known' : 'new'}`;
        return item;
      }
      case 'azureNote': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.failed ? 'warning' : node.command ? 'sign-in' : 'info');
        if (node.command) item.command = node.command;
        item.tooltip = node.text;
        item.contextValue = 'aksSignIn.note';
        return item;
      }
      default:
        return this.kubeconfigItem(node);
    }
  }

  private kubeconfigItem(node: Extract<ClusterNode, { kind: 'file' | 'context' }>): vscode.TreeItem {
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

/** The items of a loaded list, or one line that says it is loading, empty or failed (and why). */
function listed<T>(list: Loaded<T>, node: (item: T) => ClusterNode, empty: string): ClusterNode[] {
  switch (list.kind) {
    case 'loading':
      return [{ kind: 'azureNote', text: 'Loading…' }];
    case 'failed':
      return [{ kind: 'azureNote', text: list.message, failed: true }];
    case 'loaded': {
      const items = list.items.map(node);
      if (list.more) items.push({ kind: 'azureNote', text: 'Loading more…' });
      return items.length > 0 ? items : [{ kind: 'azureNote', text: empty }];
    }
  }
}
