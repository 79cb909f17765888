// The "Azure" part of the Clusters view: the person's sign-in to Azure Resource Manager (through the same
// sign-in methods as a cluster's) and what it finds, tenant → subscription → cluster, loaded when a node is
// opened and shown page by page. The ARM client and its errors are the vscode-free core (src/core/arm);
// this holds only what the tree renders and the account to remember.
import * as vscode from 'vscode';
import type { ArmClient, ClusterSummary, SubscriptionSummary, TenantSummary } from '../core/arm';
import { armTokenProvider, type ArmSignInSettings, type AzureAccount } from '../core/arm/azure-account';
import type { SignInMethods } from '../core/auth/methods';
import type { Logger } from '../core/ports';
import { messageOf } from '../core/session/service';

const accountKey = 'aksSignIn.azureAccount';

/** A list that is loading, loaded, or failed with a message that names its fix. */
export type Loaded<T> = { kind: 'loading' } | { kind: 'loaded'; items: T[]; more: boolean } | { kind: 'failed'; message: string };

export class AzureModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private client: ArmClient | undefined;
  private tenants: Loaded<TenantSummary> | undefined;
  private readonly subscriptions = new Map<string, Loaded<SubscriptionSummary>>();
  private readonly clusters = new Map<string, Loaded<ClusterSummary>>();
  private generation = 0;

  constructor(
    private readonly state: vscode.Memento,
    private readonly methods: SignInMethods,
    private readonly settings: () => ArmSignInSettings,
    private readonly logger: Logger,
  ) {}

  get account(): AzureAccount | undefined {
    return this.state.get<AzureAccount>(accountKey);
  }

  async setAccount(account: AzureAccount | undefined): Promise<void> {
    await this.state.update(accountKey, account);
    this.forget();
  }

  /** Drops what was loaded, so the next look asks ARM again. */
  forget(): void {
    this.generation++;
    this.client = undefined;
    this.tenants = undefined;
    this.subscriptions.clear();
    this.clusters.clear();
    this.changed.fire();
  }

  /** The ARM client for the signed-in account; undefined when nobody signed in to Azure. */
  armClient(): ArmClient | undefined {
    const account = this.account;
    const method = account && this.methods.get(account.method);
    if (!account || !method) return undefined;
    if (!this.client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ArmClient: Client } = require('../core/arm') as typeof import('../core/arm');
      const settings = this.settings();
      this.client = new Client({
        environment: account.environment,
        ...(settings.resourceManagerEndpoint ? { endpoint: settings.resourceManagerEndpoint } : {}),
        tokenFor: armTokenProvider(method, account, settings),
        logger: this.logger,
      });
    }
    return this.client;
  }

  tenantList(): Loaded<TenantSummary> {
    if (!this.tenants) {
      this.tenants = { kind: 'loading' };
      void this.load(async (client) => ({ kind: 'loaded', items: await client.listTenants(), more: false }), (value) => (this.tenants = value));
    }
    return this.tenants;
  }

  subscriptionList(tenantId: string): Loaded<SubscriptionSummary> {
    let list = this.subscriptions.get(tenantId);
    if (!list) {
      list = { kind: 'loading' };
      this.subscriptions.set(tenantId, list);
      void this.load(
        async (client) => ({ kind: 'loaded', items: await client.listSubscriptions(tenantId), more: false }),
        (value) => this.subscriptions.set(tenantId, value),
      );
    }
    return list;
  }

  clusterList(subscription: SubscriptionSummary): Loaded<ClusterSummary> {
    let list = this.clusters.get(subscription.subscriptionId);
    if (!list) {
      list = { kind: 'loading' };
      this.clusters.set(subscription.subscriptionId, list);
      const generation = this.generation;
      const client = this.armClient();
      if (!client) return list;
      void (async () => {
        const items: ClusterSummary[] = [];
        try {
          // Each page shows as it arrives: the first clusters matter more than the last.
          for await (const page of client.listClusters(subscription)) {
            if (generation !== this.generation) return;
            items.push(...page);
            this.clusters.set(subscription.subscriptionId, { kind: 'loaded', items: [...items], more: true });
            this.changed.fire();
          }
          this.clusters.set(subscription.subscriptionId, { kind: 'loaded', items, more: false });
        } catch (error) {
          if (generation !== this.generation) return;
          this.clusters.set(subscription.subscriptionId, { kind: 'failed', message: messageOf(error) });
        }
        this.changed.fire();
      })();
    }
    return list;
  }

  private async load<T>(fetch: (client: ArmClient) => Promise<Loaded<T>>, store: (value: Loaded<T>) => void): Promise<void> {
    const generation = this.generation;
    const client = this.armClient();
    if (!client) return;
    let value: Loaded<T>;
    try {
      value = await fetch(client);
    } catch (error) {
      value = { kind: 'failed', message: messageOf(error) };
      this.logger.warn(`Azure Resource Manager: ${messageOf(error)}`);
    }
    if (generation !== this.generation) return;
    store(value);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** How a cluster's API server signs people in, in a few words for the tree. */
export function entraIdWords(cluster: ClusterSummary): string {
  const { entraId } = cluster;
  const local = cluster.localAccountsDisabled ? ', local accounts disabled' : '';
  switch (entraId.mode) {
    case 'aksManagedEntra':
      return `AKS-managed Entra ID${entraId.azureRbac ? ', Azure RBAC' : ''}${local}`;
    case 'legacyAad':
      return `Entra ID (legacy app registration)${local}`;
    case 'localAccountsOnly':
      return 'local accounts, no Entra ID';
  }
}
