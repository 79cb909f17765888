// From nothing to kubectl: Sign In to Azure, Add Cluster from Azure, and Get Credentials on a cluster of
// the Azure part of the tree. The kubeconfig that listClusterUserCredential returns is merged the way
// `az aks get-credentials` merges it, through the same verified writer as every other write; then the new
// identity is signed in with the Azure sign-in's account, without a second prompt where Entra allows it.
import * as vscode from 'vscode';
import type { ClusterSummary, SubscriptionSummary } from '../core/arm';
import { AZURE_CLI_CLIENT_ID, signInToAzure as signInToArm, type ArmSignInSettings } from '../core/arm/azure-account';
import { mergeKubeconfig, planKubeconfigMerge, setCurrentContext, type MergeResolution } from '../core/kubeconfig';
import { messageOf, type SessionService } from '../core/session/service';
import type { AzureModel } from './azure';
import type { ClusterNode } from './clusterTree';
import { chooseMethod, type MethodsHere } from './methodPick';
import { runInteractive } from './signInFlow';

interface ClusterPick extends vscode.QuickPickItem {
  cluster: ClusterSummary;
}

export interface AzureCommands {
  signInToAzure(): Promise<void>;
  addClusterFromAzure(): Promise<void>;
  getCredentials(node?: ClusterNode): Promise<void>;
  signOutOfAzure(): Promise<void>;
}

export function azureCommands(service: SessionService, azure: AzureModel, here: MethodsHere, armSettings: () => ArmSignInSettings, kubeconfigFile: () => string | undefined): AzureCommands {
  const signInToAzure = async (): Promise<boolean> => {
    const methodId = await chooseMethod(here, { title: 'AKS: Sign In to Azure' });
    const method = methodId && here.methods.get(methodId);
    if (!method) return false;
    try {
      const account = await runInteractive('Azure', methodId, { askedByPerson: true }, (ui, signal) => signInToArm(method, ui, armSettings(), undefined, signal));
      await azure.setAccount(account);
      void vscode.commands.executeCommand('aksSignIn.clusters.focus');
      void vscode.window.showInformationMessage(`Signed in to Azure as ${account.username}. Your tenants, subscriptions and AKS clusters are listed under "Azure" in the Clusters view.`);
      return true;
    } catch (error) {
      if ((error as { kind?: string }).kind === 'cancelled') void vscode.window.showInformationMessage('Sign-in to Azure cancelled.');
      else void vscode.window.showErrorMessage(`Sign-in to Azure failed: ${messageOf(error)}`);
      return false;
    }
  };

  /** Merges the cluster's credentials into the kubeconfig, asking about names that exist, then signs it in. */
  const getCredentials = async (cluster: ClusterSummary): Promise<void> => {
    const client = azure.armClient();
    const account = azure.account;
    const file = kubeconfigFile();
    if (!client || !account || !file) return;
    try {
      const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `AKS: getting credentials for ${cluster.name}…` }, () =>
        client.getClusterUserCredential(cluster.id, { format: 'exec', ...(cluster.tenantId ? { tenantId: cluster.tenantId } : {}) }),
      );
      const plan = await planKubeconfigMerge(file, text);
      const resolutions: Record<string, MergeResolution> = {};
      const conflicts = plan.entries.filter((entry) => entry.status === 'conflict');
      if (conflicts.length > 0) {
        const names = conflicts.map((entry) => `${entry.kind} "${entry.name}"`).join(', ');
        const picked = await vscode.window.showQuickPick(
          [
            { label: 'Replace', resolution: 'replace' as const, detail: `Put the entries from Azure in place of the ${names} already there.` },
            { label: 'Keep Both', resolution: 'keepBoth' as const, detail: 'Add the entries from Azure under new names and leave the existing ones as they are.' },
          ],
          { title: `AKS: Get Credentials for ${cluster.name}`, placeHolder: `The kubeconfig already has ${names} with other content`, ignoreFocusOut: true },
        );
        if (!picked) return;
        for (const entry of conflicts) resolutions[`${entry.kind}:${entry.name}`] = picked.resolution;
      }
      const report = await mergeKubeconfig(file, text, resolutions);
      await service.reload();
      const contextName = report.contexts[0]?.name;
      if (!contextName) return;
      const entry = service.entries().find((candidate) => candidate.context.name === contextName);
      const entra = entry?.state.kind !== 'notAks';
      let signedIn = '';
      if (entra) {
        try {
          // MSAL methods hold the account under the Azure CLI's client, which Entra pre-authorises for the AKS server app.
          const store = here.methods.get(account.method)?.store;
          await service.signInWithAccount(contextName, account.method, account.homeAccountId, store === 'msal' ? AZURE_CLI_CLIENT_ID : undefined);
          signedIn = ` and signed in as ${account.username}`;
        } catch (error) {
          signedIn = `, but signing it in with your Azure account failed (${messageOf(error)}); run AKS: Sign In…`;
        }
      }
      const note = entra ? '' : ' It uses local accounts, not Entra ID, so AKS Sign-In has no token to keep current for it.';
      const useIt = 'Use This Context';
      const renamed = report.contexts[0]?.action === 'keptBoth' ? ` (as "${contextName}", since "${report.contexts[0]?.incoming}" was taken)` : '';
      const mode = report.tightenedModeFrom !== undefined ? ' The file was readable by others; it is now readable by you only.' : '';
      const choice = await vscode.window.showInformationMessage(`Added "${contextName}"${renamed} to ${file}${signedIn}.${note}${mode}`, useIt);
      if (choice === useIt) {
        await setCurrentContext(file, contextName);
        await service.reload();
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Getting credentials for ${cluster.name} failed: ${messageOf(error)}`);
    }
  };

  return {
    signInToAzure: async () => void (await signInToAzure()),
    async addClusterFromAzure() {
      if (!azure.account && !(await signInToAzure())) return;
      const client = azure.armClient();
      if (!client) return;
      const found: ClusterPick[] = [];
      const picker = vscode.window.createQuickPick<ClusterPick>();
      picker.title = 'AKS: Add Cluster from Azure';
      picker.placeholder = 'Looking for AKS clusters in your subscriptions…';
      picker.busy = true;
      picker.matchOnDescription = true;
      picker.matchOnDetail = true;
      picker.show();
      const controller = new AbortController();
      const chosen = new Promise<ClusterSummary | undefined>((resolve) => {
        picker.onDidAccept(() => resolve(picker.selectedItems[0]?.cluster));
        picker.onDidHide(() => {
          controller.abort();
          resolve(undefined);
        });
      });
      const names = new Map<string, SubscriptionSummary>();
      void client
        .discoverClusters({
          signal: controller.signal,
          onSubscription: (subscription) => void names.set(subscription.subscriptionId, subscription),
          onClusters: (subscription, page) => {
            for (const cluster of page) {
              found.push({ cluster, label: cluster.name, description: `${cluster.resourceGroup} · ${cluster.location}`, detail: `${subscription.displayName} · Kubernetes ${cluster.kubernetesVersion ?? '?'}` });
            }
            picker.items = [...found];
          },
        })
        .then(
          (result) => {
            picker.busy = false;
            picker.placeholder = found.length > 0 ? 'Choose a cluster to add to the kubeconfig' : result.failures[0] ? result.failures[0].error.message : 'No AKS cluster was found in your subscriptions.';
          },
          (error: unknown) => {
            picker.busy = false;
            if (!controller.signal.aborted) picker.placeholder = messageOf(error);
          },
        );
      const cluster = await chosen;
      picker.dispose();
      if (cluster) await getCredentials(cluster);
    },
    async getCredentials(node?: ClusterNode) {
      if (node?.kind === 'azureCluster') await getCredentials(node.cluster);
    },
    async signOutOfAzure() {
      await azure.setAccount(undefined);
    },
  };
}
