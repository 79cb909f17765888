// The one place where kubeconfig, sign-in and keeper meet: kubeconfig → AKS identities → sign-in /
// refresh → tokens → kubeconfig, and one state per context that the status bar and the tree render.
import type { AuthEngine, AuthTarget, TokenResult } from '../auth';
import { AuthError } from '../auth/errors';
import type { Credentials, CredentialFormat, KubeconfigView, KubeContext, KubeUser, UserCredential } from '../kubeconfig';
import { KubeconfigError, clearCredentials, readKubeconfig, tokenFingerprint, writeCredentials } from '../kubeconfig';
import type { KeeperState } from '../keeper';
import { RefreshFailure, TokenKeeper } from '../keeper';
import type { Clock, DeviceCodePrompt, Disposable, Logger } from '../ports';
import { chooseCredentialFormat, type FormatSetting } from './format';

/** Non-secret facts about one signed-in kubeconfig user, kept across restarts (VS Code's globalState). */
export interface SessionRecord {
  file: string;
  userName: string;
  homeAccountId: string;
  username: string;
  format: CredentialFormat;
  /** Epoch milliseconds. */
  expiresOn: number;
  /** tokenFingerprint() of the access token we last wrote. */
  tokenFingerprint?: string;
}

export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

export interface SessionSettings {
  kubeconfigPaths: string[];
  credentialFormat: FormatSetting;
  refreshBeforeMinutes: number;
  authorityHost?: string;
}

export type SignInState =
  | { kind: 'notAks'; description: string }
  | { kind: 'signedOut' }
  | { kind: 'signingIn' }
  | { kind: 'signedIn'; account: string; expiresOn: Date; format: CredentialFormat; refreshing: boolean }
  | { kind: 'retrying'; account: string; expiresOn: Date; format: CredentialFormat; reason: string; nextAttemptAt: Date }
  | { kind: 'expired'; account: string; expiresOn: Date; format: CredentialFormat; reason?: string }
  | { kind: 'needsSignIn'; account: string; reason: string };

export interface ContextEntry {
  context: KubeContext;
  user?: KubeUser;
  current: boolean;
  state: SignInState;
}

export type KubeconfigStatus =
  | { kind: 'loaded'; view: KubeconfigView }
  | { kind: 'missing'; paths: string[] }
  | { kind: 'invalid'; paths: string[]; error: KubeconfigError | Error };

export interface SignInOutcome {
  account: string;
  format: CredentialFormat;
  formatReason: string;
  expiresOn: Date;
  /** Other contexts whose users share tenant and client, signed in with the same account. */
  alsoSignedIn: string[];
}

export interface SessionServiceOptions {
  auth: Pick<AuthEngine, 'signIn' | 'acquireSilent' | 'signOut'>;
  clock: Clock;
  logger: Logger;
  state: StateStore;
  settings: () => SessionSettings;
  kubectlMinor: () => Promise<number | undefined>;
}

const recordsKey = 'aksSignIn.sessions';
const managedClientId = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';

type AksUser = KubeUser & { credential: Extract<UserCredential, { kind: 'aks' }> };

function isAksUser(user: KubeUser | undefined): user is AksUser {
  return user?.credential.kind === 'aks';
}

const identityKey = (file: string, userName: string): string => `${file}\u0000${userName}`;

export class SessionService implements Disposable {
  private status: KubeconfigStatus = { kind: 'missing', paths: [] };
  private readonly records = new Map<string, SessionRecord>();
  private readonly signingIn = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly keeper: TokenKeeper;
  private kubectlMinorOnce: Promise<number | undefined> | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;

  constructor(private readonly options: SessionServiceOptions) {
    for (const record of options.state.get<SessionRecord[]>(recordsKey) ?? []) {
      this.records.set(identityKey(record.file, record.userName), record);
    }
    this.keeper = new TokenKeeper({
      clock: options.clock,
      logger: options.logger,
      refreshBeforeMs: () => options.settings().refreshBeforeMinutes * 60_000,
      refresh: (id) => this.refreshIdentity(id),
      onDidChangeState: () => this.fire(),
    });
  }

  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get kubeconfig(): KubeconfigStatus {
    return this.status;
  }

  /** Reads the kubeconfig again (on start, on a file change, on a settings change). Calls made while a
   *  read runs fold into one more read after it, so a burst of file events costs two reads at most. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        await this.readOnce();
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async readOnce(): Promise<void> {
    const { kubeconfigPaths: paths } = this.options.settings();
    try {
      const view = await readKubeconfig(paths);
      this.status = view.files.length === 0 ? { kind: 'missing', paths } : { kind: 'loaded', view };
      for (const problem of view.problems) this.options.logger.warn(problem.message);
    } catch (error) {
      this.status = { kind: 'invalid', paths, error: error instanceof Error ? error : new Error(String(error)) };
      this.options.logger.error(`Could not read the kubeconfig: ${this.status.error.message}`);
    }
    this.reconcile();
    this.fire();
  }

  /** Matches the records of signed-in users with what the file now says: keeps tracking users that are
   *  still there, forgets users that are gone, and writes back fields another tool dropped. */
  private reconcile(): void {
    if (this.status.kind !== 'loaded') return;
    const users = this.status.view.users;
    for (const [key, record] of this.records) {
      const user = users.get(record.userName);
      if (!user || user.file !== record.file || !isAksUser(user)) {
        this.options.logger.info(`"${record.userName}" is no longer an AKS user in ${record.file}; it is no longer kept current.`);
        this.keeper.untrack(key);
        this.records.delete(key);
        void this.saveRecords();
        continue;
      }
      if (this.keeper.state(key) === undefined) this.keeper.track(key, new Date(record.expiresOn));
      if (this.signingIn.has(key)) continue;
      const { format, expiresOn, tokenFingerprint: inFile } = user.credential;
      // kubectl plans its rewrite from a read made before it takes the lock, so it can put back a token
      // older than the one we wrote meanwhile; tools like az drop our fields altogether. A token that is
      // not ours but newer (the user signed in some other way) is left alone.
      const notOurs = inFile !== undefined && record.tokenFingerprint !== undefined && inFile !== record.tokenFingerprint;
      const older = notOurs && (expiresOn === undefined || expiresOn.getTime() < record.expiresOn + 1000);
      if (format === 'none' || older) {
        const what = format === 'none' ? 'were removed' : 'were replaced with an older token';
        this.options.logger.info(`The sign-in fields of "${record.userName}" in ${record.file} ${what} by another program; writing them back.`);
        void this.keeper.refreshNow(key);
      }
    }
  }

  entries(): ContextEntry[] {
    if (this.status.kind !== 'loaded') return [];
    const { view } = this.status;
    return view.contexts.map((context) => {
      const user = view.users.get(context.userName);
      return { context, user, current: view.currentContext === context.name, state: this.stateOf(user) };
    });
  }

  private stateOf(user: KubeUser | undefined): SignInState {
    if (!user) return { kind: 'notAks', description: 'user entry missing' };
    if (!isAksUser(user)) return { kind: 'notAks', description: user.credential.kind === 'other' ? user.credential.description : '' };
    const key = identityKey(user.file, user.name);
    if (this.signingIn.has(key)) return { kind: 'signingIn' };
    const record = this.records.get(key);
    if (!record) return { kind: 'signedOut' };
    const account = record.username;
    const expiresOn = new Date(record.expiresOn);
    const format = record.format;
    const kept: KeeperState | undefined = this.keeper.state(key);
    switch (kept?.kind) {
      case 'needsSignIn':
        return { kind: 'needsSignIn', account, reason: kept.reason };
      case 'retrying':
        if (kept.expiresOn.getTime() <= this.options.clock.now()) return { kind: 'expired', account, expiresOn, format, reason: kept.reason };
        return { kind: 'retrying', account, expiresOn, format, reason: kept.reason, nextAttemptAt: kept.nextAttemptAt };
      case 'expired':
        return { kind: 'expired', account, expiresOn, format, reason: kept.reason };
      default:
        if (expiresOn.getTime() <= this.options.clock.now()) return { kind: 'expired', account, expiresOn, format };
        return { kind: 'signedIn', account, expiresOn, format, refreshing: kept?.kind === 'refreshing' };
    }
  }

  /** The AKS user behind a context, or a KubeconfigError that says why there is none. */
  private aksUserOf(contextName: string): { context: KubeContext; user: AksUser } {
    if (this.status.kind === 'invalid') throw this.status.error;
    if (this.status.kind === 'missing') {
      throw new Error(`No kubeconfig was found (looked at ${this.status.paths.join(', ') || 'nothing'}). Run "az aks get-credentials" or select a kubeconfig.`);
    }
    const entry = this.entries().find((candidate) => candidate.context.name === contextName);
    if (!entry) throw new Error(`The kubeconfig has no context named "${contextName}".`);
    if (!isAksUser(entry.user)) {
      throw new Error(`Context "${contextName}" does not sign in with Microsoft Entra ID (its user is ${entry.user ? `"${entry.user.name}"` : 'missing'}), so there is nothing to sign in to.`);
    }
    return { context: entry.context, user: entry.user };
  }

  /** The client ids of the kubeconfig's AKS users: one token cache each. */
  clientIds(): Set<string> {
    return new Set(this.entries().flatMap((entry) => (isAksUser(entry.user) ? [this.targetFor(entry.user).clientId] : [])));
  }

  targetFor(user: AksUser): AuthTarget {
    const { identity } = user.credential;
    return {
      environment: identity.environment,
      tenantId: identity.tenantId,
      clientId: identity.clientId || managedClientId,
      serverId: identity.serverId,
      // client-go reads a missing config-mode as "0" (the spn: audience); kubelogin entries have none.
      configMode: identity.configMode ?? (identity.origin === 'auth-provider' ? '0' : undefined),
      authorityHost: this.options.settings().authorityHost || undefined,
    };
  }

  async signIn(contextName: string, prompt: DeviceCodePrompt, signal?: AbortSignal): Promise<SignInOutcome> {
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    const target = this.targetFor(user);
    this.signingIn.add(key);
    this.fire();
    try {
      const token = await this.options.auth.signIn(target, prompt, signal);
      const choice = await this.formatFor(user);
      await this.store(user, token, choice.format);
      this.options.logger.info(`Signed in to "${contextName}" as ${token.account.username}; wrote the ${choice.format} form because ${choice.reason}.`);
      const alsoSignedIn = await this.signInSiblings(user, target, token);
      return { account: token.account.username, format: choice.format, formatReason: choice.reason, expiresOn: token.expiresOn, alsoSignedIn };
    } finally {
      this.signingIn.delete(key);
      this.fire();
    }
  }

  /** Users that share tenant and client with the one just signed in get tokens without another prompt. */
  private async signInSiblings(signedIn: AksUser, target: AuthTarget, token: TokenResult): Promise<string[]> {
    const names: string[] = [];
    for (const entry of this.entries()) {
      const user = entry.user;
      if (!isAksUser(user) || entry.state.kind !== 'signedOut') continue;
      if (user.file === signedIn.file && user.name === signedIn.name) continue;
      const sibling = this.targetFor(user);
      if (sibling.tenantId !== target.tenantId || sibling.clientId !== target.clientId || sibling.environment !== target.environment) continue;
      try {
        const siblingToken = await this.options.auth.acquireSilent(sibling, token.account.homeAccountId);
        const choice = await this.formatFor(user);
        await this.store(user, siblingToken, choice.format);
        names.push(entry.context.name);
      } catch (error) {
        this.options.logger.warn(`Could not also sign in "${entry.context.name}": ${messageOf(error)}`);
      }
    }
    return names;
  }

  private async formatFor(user: AksUser) {
    const setting = this.options.settings().credentialFormat;
    const kubectlMinor = setting === 'auto' ? await (this.kubectlMinorOnce ??= this.options.kubectlMinor()) : undefined;
    return chooseCredentialFormat(setting, user.credential, kubectlMinor);
  }

  private async store(user: AksUser, token: TokenResult, format: CredentialFormat): Promise<void> {
    await writeCredentials(user.file, user.name, credentialsOf(token, format, this.options.clock.now()));
    const key = identityKey(user.file, user.name);
    this.records.set(key, {
      file: user.file,
      userName: user.name,
      homeAccountId: token.account.homeAccountId,
      username: token.account.username,
      format,
      expiresOn: token.expiresOn.getTime(),
      tokenFingerprint: tokenFingerprint(token.accessToken),
    });
    await this.saveRecords();
    this.keeper.track(key, token.expiresOn);
  }

  private async refreshIdentity(key: string): Promise<{ expiresOn: Date }> {
    const record = this.records.get(key);
    const user = this.status.kind === 'loaded' ? this.status.view.users.get(record?.userName ?? '') : undefined;
    if (!record || !isAksUser(user)) throw new RefreshFailure('This user is no longer in the kubeconfig.', false);
    let token: TokenResult;
    try {
      token = await this.options.auth.acquireSilent(this.targetFor(user), record.homeAccountId, { forceRefresh: true });
    } catch (error) {
      if (error instanceof AuthError) throw new RefreshFailure(error.message, error.retryable);
      throw error;
    }
    try {
      await writeCredentials(record.file, record.userName, credentialsOf(token, record.format, this.options.clock.now()));
    } catch (error) {
      // A lock held by kubectl or a file changed under us clears up by itself; anything else needs a person.
      const retryable = error instanceof KubeconfigError && (error.kind === 'locked' || error.kind === 'changedOnDisk');
      throw new RefreshFailure(`Could not write ${record.file}: ${messageOf(error)}`, retryable);
    }
    this.records.set(key, {
      ...record,
      expiresOn: token.expiresOn.getTime(),
      username: token.account.username,
      tokenFingerprint: tokenFingerprint(token.accessToken),
    });
    await this.saveRecords();
    this.options.logger.info(`Refreshed "${record.userName}" (${token.account.username}); the token now expires at ${token.expiresOn.toISOString()}.`);
    return { expiresOn: token.expiresOn };
  }

  async signOut(contextName: string): Promise<void> {
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    const record = this.records.get(key);
    this.keeper.untrack(key);
    await clearCredentials(user.file, user.name);
    this.records.delete(key);
    await this.saveRecords();
    const target = this.targetFor(user);
    // The account's refresh token serves every user of the same client: keep it while another uses it.
    const stillUsed = [...this.records.values()].some((other) => other.homeAccountId === record?.homeAccountId);
    if (record && !stillUsed) await this.options.auth.signOut(target, record.homeAccountId);
    this.options.logger.info(`Signed out of "${contextName}"; the kubeconfig user "${user.name}" is back to its original form.`);
    this.fire();
  }

  /** Refreshes now: one context, or every signed-in identity. */
  async refresh(contextName?: string): Promise<void> {
    if (contextName === undefined) return this.keeper.refreshNow();
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    if (!this.records.has(key)) throw new Error(`"${contextName}" is not signed in. Sign in first.`);
    return this.keeper.refreshNow(key);
  }

  /** Applies a changed refresh window to every schedule now rather than at the next wake-up. */
  reschedule(): void {
    this.keeper.reschedule();
  }

  private saveRecords(): Promise<void> {
    return Promise.resolve(this.options.state.update(recordsKey, [...this.records.values()]));
  }

  private fire(): void {
    for (const listener of [...this.listeners]) listener();
  }

  dispose(): void {
    this.keeper.dispose();
    this.listeners.clear();
  }
}

function credentialsOf(token: TokenResult, format: CredentialFormat, now: number): Credentials {
  return {
    format,
    accessToken: token.accessToken,
    refreshToken: token.refreshToken,
    expiresOn: token.expiresOn,
    expiresInSeconds: Math.max(0, Math.round((token.expiresOn.getTime() - now) / 1000)),
  };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
