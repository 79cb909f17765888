// The one place where kubeconfig, sign-in and keeper meet: kubeconfig → AKS identities → sign-in /
// refresh → tokens → kubeconfig, and one state per context that the status bar and the tree render.
//
// Several windows share one machine: the session records and each identity's lease live in the shared
// record store, tokens in SecretStorage and the kubeconfig. Every change of an identity's fields (sign-in,
// refresh, write-back, format change, sign-out) runs in that identity's queue here and under its lease
// across windows, and decides from the record as it is after its last await, so a stale operation never
// undoes a newer one. A wait for a person (the device code) is outside both.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { AuthTarget, TokenResult } from '../auth';
import type { SignInMethod, SignInMethodId, SignInMethods, SignInUi } from '../auth/methods';
import { AuthError } from '../auth/errors';
import type { CredentialFormat, Credentials, KubeconfigView, KubeContext } from '../kubeconfig';
import { AKS_MANAGED_CLIENT_ID, KubeconfigError, checkCredentialWrite, clearCredentials, readKubeconfig, removeStaleLock, tokenFingerprint, writeCredentials } from '../kubeconfig';
import { RefreshFailure, TokenKeeper, type PlannedRefresh, type RefreshOutcome } from '../keeper';
import type { Clock, Disposable, Logger } from '../ports';
import type { Remedy } from '../remedy';
import { KeyedSequencer } from '../sequencer';
import { chooseCredentialFormat, refusesLegacy, type FormatChoice, type FormatSetting } from './format';
import { identityKey, type SessionRecord, type SessionRecordStore } from './records';
import { isAksUser, signInState, wantsSignIn, type AksUser, type ContextEntry } from './states';

export type { ContextEntry, ContextWarning, SignInState } from './states';
export type { SessionRecord } from './records';

/** Where earlier versions kept the records (VS Code's globalState); read once to carry them over. */
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

export type KubeconfigStatus =
  | { kind: 'loaded'; view: KubeconfigView }
  | { kind: 'missing'; paths: string[] }
  | { kind: 'invalid'; paths: string[]; error: KubeconfigError | Error };

export interface SignInOutcome {
  account: string;
  method: SignInMethodId;
  format: CredentialFormat;
  formatReason: string;
  expiresOn: Date;
  /** Other contexts whose users share tenant and client, signed in with the same account. */
  alsoSignedIn: string[];
  /** Something the write changed about the file that the person should know (its mode). */
  fileNote?: string;
}

export interface SessionServiceOptions {
  /** The ways to get and keep a token; each session names the one it was signed in with. */
  methods: SignInMethods;
  clock: Clock;
  logger: Logger;
  records: SessionRecordStore;
  /** Records kept by an earlier version, carried over into `records` once. */
  legacyState?: StateStore;
  settings: () => SessionSettings;
  kubectlMinor: () => Promise<number | undefined>;
  /** How long a user must stay absent from a whole, unchanged file before its session is forgotten. Default 10 s. */
  forgetAfterMs?: number;
  /** How long an identity's lease lasts unless renewed; a window that dies holding it blocks no one longer. Default 30 s. */
  leaseMs?: number;
}

const legacyRecordsKey = 'aksSignIn.sessions';
const kubectlMinorTtlMs = 5 * 60_000;
/** Another refresher is looked at again this long after its lease runs out, spread so windows do not collide. */
const leaseSpreadMs = 2_000;
/** A window without the session's account in its cache looks again after this, in case the cache arrives. */
const notHeldHereRetryMs = 20_000;

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What to do about a failed kubeconfig write: wait for what clears up by itself, else the file needs a person. */
export function writeRemedy(error: unknown, file: string): Remedy {
  if (error instanceof KubeconfigError) {
    switch (error.kind) {
      case 'locked':
        // A stale lock (its writer died) blocks kubectl too: only a person can say it may go.
        return error.lock?.stale ? { kind: 'fixFile', file } : { kind: 'wait' };
      case 'changedOnDisk':
      case 'notFound':
      // EBUSY, EAGAIN, or EPERM while Windows holds the file: clears up by itself.
      case 'busy':
        return { kind: 'wait' };
      default:
        return { kind: 'fixFile', file };
    }
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EBUSY' || code === 'EPERM' || code === 'EAGAIN' || code === 'ETXTBSY') return { kind: 'wait' };
  return { kind: 'fixFile', file };
}

/** What this window keeps an identity on: a different session or token in the record is adopted. */
interface Tracked {
  sessionId: string;
  fingerprint?: string;
}

interface Absence {
  since: number;
  stamp: string;
}

export class SessionService implements Disposable {
  private status: KubeconfigStatus = { kind: 'missing', paths: [] };
  /** The last view that loaded: refreshes go on from it while the file cannot be read. */
  private lastView: KubeconfigView | undefined;
  private records = new Map<string, SessionRecord>();
  private readonly signingIn = new Map<string, number>();
  private readonly tracked = new Map<string, Tracked>();
  private readonly absent = new Map<string, Absence>();
  private readonly listeners = new Set<() => void>();
  private readonly keeper: TokenKeeper;
  private readonly queues = new KeyedSequencer();
  /** Owner name of this window's leases. */
  private readonly instance = `${process.pid}-${randomUUID()}`;
  private readonly subscriptions: Disposable[] = [];
  private kubectlMinor: { value: Promise<number | undefined>; at: number; known?: number } | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private recheckTimer: Disposable | undefined;
  private migrated = false;
  private disposed = false;

  constructor(private readonly options: SessionServiceOptions) {
    this.keeper = new TokenKeeper({
      clock: options.clock,
      logger: options.logger,
      refreshBeforeMs: () => options.settings().refreshBeforeMinutes * 60_000,
      refresh: (key, planned) => this.refreshIdentity(key, planned),
      onDidChangeState: () => this.fire(),
    });
    this.subscriptions.push(options.records.onDidChange(() => void this.syncRecords()));
  }

  private get forgetAfterMs(): number {
    return this.options.forgetAfterMs ?? 10_000;
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get kubeconfig(): KubeconfigStatus {
    return this.status;
  }

  /** Signed-in sessions of this window's kubeconfig files, whether or not the file can be read now. */
  sessions(): SessionRecord[] {
    const paths = new Set(this.options.settings().kubeconfigPaths);
    return [...this.records.values()].filter((record) => paths.has(record.file));
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
    await this.migrate();
    await this.syncRecords(false);
    try {
      const view = await readKubeconfig(paths);
      this.status = view.files.length === 0 ? { kind: 'missing', paths } : { kind: 'loaded', view };
      if (view.files.length > 0) this.lastView = view;
      for (const problem of view.problems) this.options.logger.warn(problem.message);
    } catch (error) {
      this.status = { kind: 'invalid', paths, error: error instanceof Error ? error : new Error(String(error)) };
      this.options.logger.error(`Could not read the kubeconfig: ${this.status.error.message} Signed-in contexts stay signed in and are written again once it can be read.`);
    }
    await this.reconcile();
    this.fire();
  }

  /** Carries records kept in globalState by an earlier version into the shared store, once. */
  private async migrate(): Promise<void> {
    if (this.migrated) return;
    this.migrated = true;
    const legacy = this.options.legacyState?.get<Array<Omit<SessionRecord, 'sessionId' | 'method' | 'clientId'>>>(legacyRecordsKey);
    if (!legacy || legacy.length === 0) return;
    for (const old of legacy) {
      const key = identityKey(old.file, old.userName);
      await this.options.records.update(key, (current) => current ?? { ...old, sessionId: randomUUID(), method: 'deviceCode', clientId: '' });
    }
    await this.options.legacyState?.update(legacyRecordsKey, undefined);
    this.options.logger.info(`Carried ${legacy.length} session(s) over into the session store shared by all windows.`);
  }

  /**
   * Takes the shared records as they are now: a sign-in, refresh or sign-out by another window is adopted
   * here (tracked anew, or no longer kept) instead of being repeated or undone.
   */
  private async syncRecords(notify = true): Promise<void> {
    if (this.disposed) return;
    let all: Map<string, SessionRecord>;
    try {
      all = await this.options.records.all();
    } catch (error) {
      this.options.logger.warn(`Could not read the shared sessions: ${messageOf(error)}`);
      return;
    }
    if (this.disposed) return;
    this.records = all;
    const paths = new Set(this.options.settings().kubeconfigPaths);
    for (const key of [...this.tracked.keys()]) {
      const record = all.get(key);
      if (!record || !paths.has(record.file)) this.stopKeeping(key);
    }
    for (const [key, record] of all) {
      if (!paths.has(record.file)) continue;
      const known = this.tracked.get(key);
      if (known && known.sessionId === record.sessionId && known.fingerprint === record.tokenFingerprint && this.keeper.has(key)) continue;
      this.keep(key, record);
    }
    if (notify) this.fire();
  }

  private keep(key: string, record: SessionRecord): void {
    if (this.disposed) return;
    this.remember(key, record);
    this.keeper.track(key, new Date(record.expiresOn));
  }

  private remember(key: string, record: SessionRecord): void {
    this.tracked.set(key, { sessionId: record.sessionId, fingerprint: record.tokenFingerprint });
  }

  private stopKeeping(key: string): void {
    this.tracked.delete(key);
    this.absent.delete(key);
    this.keeper.untrack(key);
  }

  /**
   * Matches the records with what the file now says: forgets a user only once a whole file stayed without
   * it, retries writes that waited for the file to be fixed, and writes back fields another tool dropped.
   */
  private async reconcile(): Promise<void> {
    if (this.status.kind !== 'loaded') return;
    const { view } = this.status;
    const read = new Set(view.files);
    for (const [key, record] of this.records) {
      if (!this.tracked.has(key) || !read.has(record.file)) continue;
      const user = view.users.get(record.userName);
      if (!user || user.file !== record.file || !isAksUser(user)) {
        await this.noticeAbsence(key, record);
        continue;
      }
      this.absent.delete(key);
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
        void this.writeBack(key, record.sessionId);
      }
    }
    // A write that waited for the file (malformed, read-only, locked) is tried again now that it changed.
    for (const key of this.keeper.waitingToHeal()) {
      const record = this.records.get(key);
      if (record && read.has(record.file)) void this.keeper.refreshNow(key);
    }
  }

  /** A user missing from a whole read: forgotten only when the file is still the same without it later. */
  private async noticeAbsence(key: string, record: SessionRecord): Promise<void> {
    const stamp = await stat(record.file).then(
      (info) => `${info.size}:${info.mtimeMs}:${info.ino}`,
      () => '',
    );
    const now = this.options.clock.now();
    const seen = this.absent.get(key);
    if (seen === undefined || seen.stamp !== stamp || stamp === '') {
      this.absent.set(key, { since: now, stamp });
      this.options.logger.info(`"${record.userName}" is not in ${record.file} right now; its session is kept and checked again in ${Math.round(this.forgetAfterMs / 1000)} s.`);
      this.scheduleRecheck();
      return;
    }
    if (now - seen.since < this.forgetAfterMs) {
      this.scheduleRecheck();
      return;
    }
    await this.queues.run(key, async () => {
      const removed = await this.options.records.update(key, (current) => (current?.sessionId === record.sessionId ? undefined : current));
      if (removed === undefined) {
        this.stopKeeping(key);
        this.options.logger.info(`"${record.userName}" stayed out of ${record.file}; its session is no longer kept.`);
      }
    });
    await this.syncRecords(false);
  }

  private scheduleRecheck(): void {
    if (this.recheckTimer || this.disposed) return;
    this.recheckTimer = this.options.clock.setTimeout(() => {
      this.recheckTimer = undefined;
      void this.reload();
    }, this.forgetAfterMs + 100);
  }

  entries(): ContextEntry[] {
    if (this.status.kind !== 'loaded') return [];
    const { view } = this.status;
    const now = this.options.clock.now();
    const kubectlMinor = this.kubectlMinor?.known;
    return view.contexts.map((context) => {
      const user = view.users.get(context.userName);
      const key = user ? identityKey(user.file, user.name) : '';
      const record = this.records.get(key);
      const state = signInState(user, record, this.keeper.state(key), this.signingIn.has(key), now);
      const entry: ContextEntry = { context, user, current: view.currentContext === context.name, state };
      if ('format' in state && state.format === 'legacy' && kubectlMinor !== undefined && refusesLegacy(kubectlMinor)) {
        entry.warning = { kind: 'legacyRefused', kubectlMinor };
      }
      return entry;
    });
  }

  /** The AKS user behind a context, or an error that says why there is none. */
  private aksUserOf(contextName: string): { context: KubeContext; user: AksUser } {
    if (this.status.kind === 'invalid') throw this.status.error;
    if (this.status.kind === 'missing') {
      throw new Error(`No kubeconfig was found (looked at ${this.status.paths.join(', ') || 'nothing'}). Run "az aks get-credentials" or select a kubeconfig.`);
    }
    const entry = this.entries().find((candidate) => candidate.context.name === contextName);
    if (!entry) throw new Error(`The kubeconfig has no context named "${contextName}".`);
    if (!entry.user) {
      throw new Error(`Context "${contextName}" names the user "${entry.context.userName}", which no kubeconfig file defines. Run "az aks get-credentials" for the cluster again, or fix the context.`);
    }
    if (!isAksUser(entry.user)) {
      throw new Error(`Context "${contextName}" does not sign in with Microsoft Entra ID (its user "${entry.user.name}" uses ${entry.user.credential.kind === 'other' ? entry.user.credential.description : 'something else'}), so there is nothing to sign in to.`);
    }
    return { context: entry.context, user: entry.user };
  }

  /** Why a context cannot be signed in, or undefined when it can. */
  whyNotSignable(contextName: string): string | undefined {
    try {
      this.aksUserOf(contextName);
      return undefined;
    } catch (error) {
      return messageOf(error);
    }
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
      clientId: identity.clientId || AKS_MANAGED_CLIENT_ID,
      serverId: identity.serverId,
      // client-go reads a missing config-mode as "0" (the spn: audience); kubelogin entries have none.
      configMode: identity.configMode ?? (identity.origin === 'auth-provider' ? '0' : undefined),
      authorityHost: this.options.settings().authorityHost || undefined,
    };
  }

  /** The method behind a session, or a failure that says this window cannot use it. */
  private method(id: SignInMethodId): SignInMethod {
    const method = this.options.methods.get(id);
    if (!method) throw new RefreshFailure(`This window cannot use the sign-in method "${id}" that the session was signed in with; sign in again with another method.`, { kind: 'signInAgain' });
    return method;
  }

  async signIn(contextName: string, ui: SignInUi, options: { method?: SignInMethodId; signal?: AbortSignal } = {}): Promise<SignInOutcome> {
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    const target = this.targetFor(user);
    const methodId = options.method ?? 'deviceCode';
    const method = this.options.methods.get(methodId);
    if (!method) throw new Error(`The sign-in method "${methodId}" is not available here.`);
    const choice = this.withRefreshTokenOf(method, await this.formatFor(user));
    // Whatever would stop the write is said now, not after the person has typed the code.
    await this.checkBeforePrompt(user, choice.format);
    this.signingIn.set(key, (this.signingIn.get(key) ?? 0) + 1);
    this.fire();
    try {
      const token = await method.acquire(target, ui, options.signal);
      const fileNote = await this.commitSignIn(user, target, token, choice, methodId);
      this.options.logger.info(`Signed in to "${contextName}" as ${token.account.username} (${method.label}); wrote the ${choice.format} form because ${choice.reason}.`);
      const alsoSignedIn = await this.signInSiblings(user, target, token, method);
      return { account: token.account.username, method: methodId, format: choice.format, formatReason: choice.reason, expiresOn: token.expiresOn, alsoSignedIn, ...(fileNote ? { fileNote } : {}) };
    } finally {
      const left = (this.signingIn.get(key) ?? 1) - 1;
      if (left > 0) this.signingIn.set(key, left);
      else this.signingIn.delete(key);
      this.fire();
    }
  }

  /**
   * Signs a context in with an account a method already holds (the Azure sign-in's), without a prompt.
   * `clientId` is the client that holds the account's refresh token when it differs from the entry's
   * (MSAL methods sign in to Azure through the Azure CLI's client, which may also ask for the cluster).
   */
  async signInWithAccount(contextName: string, methodId: SignInMethodId, homeAccountId: string, clientId?: string): Promise<SignInOutcome> {
    const { user } = this.aksUserOf(contextName);
    const method = this.options.methods.get(methodId);
    if (!method) throw new Error(`The sign-in method "${methodId}" is not available here.`);
    const target = clientId ? { ...this.targetFor(user), clientId } : this.targetFor(user);
    const choice = this.withRefreshTokenOf(method, await this.formatFor(user));
    await this.checkBeforePrompt(user, choice.format);
    const token = await method.acquireSilent(target, homeAccountId);
    const fileNote = await this.commitSignIn(user, target, token, choice, methodId);
    this.options.logger.info(`Signed in to "${contextName}" as ${token.account.username} with the Azure sign-in's account (${method.label}).`);
    return { account: token.account.username, method: methodId, format: choice.format, formatReason: choice.reason, expiresOn: token.expiresOn, alsoSignedIn: [], ...(fileNote ? { fileNote } : {}) };
  }

  /** What a credential write of this entry would refuse, found before anyone is asked to sign in. */
  private async checkBeforePrompt(user: AksUser, format: CredentialFormat): Promise<void> {
    await this.pastDeadWritersLock(user.file, () => checkCredentialWrite(user.file, user.name, format));
  }

  /**
   * Runs `operation`; when it meets a lock one of our writers left as its process died (a window killed
   * mid-write), which names that process and this machine and so is provably nobody's, removes the lock and
   * runs it once more. kubectl's locks say nothing about their writer and stay for the person to judge.
   */
  private async pastDeadWritersLock<T>(file: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const lock = error instanceof KubeconfigError && error.kind === 'locked' ? error.lock : undefined;
      if (!lock || lock.holderAlive !== false || !(await removeStaleLock(file, lock))) throw error;
      this.options.logger.warn(`Removed ${lock.path}, left ${Math.round(lock.ageMs / 1000)} s ago by process ${lock.holderPid ?? '?'}, which is gone.`);
      return operation();
    }
  }

  /** Writes a new sign-in's fields and record, in the identity's queue and under its lease. */
  private async commitSignIn(user: AksUser, target: AuthTarget, token: TokenResult, choice: FormatChoice, method: SignInMethodId): Promise<string | undefined> {
    const key = identityKey(user.file, user.name);
    return this.exclusively(key, async () => {
      const note = await this.writeToken(user.file, user.name, token, choice.format);
      const record: SessionRecord = {
        file: user.file,
        userName: user.name,
        sessionId: randomUUID(),
        method,
        clientId: target.clientId,
        homeAccountId: token.account.homeAccountId,
        username: token.account.username,
        format: choice.format,
        expiresOn: token.expiresOn.getTime(),
        tokenFingerprint: tokenFingerprint(token.accessToken),
      };
      await this.options.records.put(record);
      this.records.set(key, record);
      this.absent.delete(key);
      this.keep(key, record);
      return note;
    });
  }

  /** Users that share tenant and client with the one just signed in get tokens without another prompt. */
  private async signInSiblings(signedIn: AksUser, target: AuthTarget, token: TokenResult, method: SignInMethod): Promise<string[]> {
    const names: string[] = [];
    const done = new Set([identityKey(signedIn.file, signedIn.name)]);
    for (const entry of this.entries()) {
      const user = entry.user;
      if (!isAksUser(user) || !wantsSignIn(entry.state)) continue;
      const key = identityKey(user.file, user.name);
      if (done.has(key)) continue;
      const sibling = this.targetFor(user);
      if (sibling.tenantId !== target.tenantId || sibling.clientId !== target.clientId || sibling.environment !== target.environment) continue;
      done.add(key);
      try {
        const siblingToken = await method.acquireSilent(sibling, token.account.homeAccountId);
        const choice = this.withRefreshTokenOf(method, await this.formatFor(user));
        await this.commitSignIn(user, sibling, siblingToken, choice, method.id);
        names.push(entry.context.name);
      } catch (error) {
        this.options.logger.warn(`Could not also sign in "${entry.context.name}": ${messageOf(error)}`);
      }
    }
    return names;
  }

  /** The legacy form carries a refresh token; a method that keeps none here (az, VS Code's account) cannot fill it. */
  private withRefreshTokenOf(method: SignInMethod, choice: FormatChoice): FormatChoice {
    if (choice.format !== 'legacy' || method.store === 'msal') return choice;
    return { format: 'token', reason: `${choice.reason}, but the ${method.label} sign-in keeps its refresh token to itself, which the legacy form needs` };
  }

  private async formatFor(user: AksUser, pinned?: CredentialFormat): Promise<FormatChoice> {
    // Asked whatever the setting: a legacy entry that the kubectl in use refuses is flagged in the tree.
    const kubectlMinor = await this.kubectlMinorNow();
    return chooseCredentialFormat(this.options.settings().credentialFormat, user.credential, kubectlMinor, pinned);
  }

  /** The kubectl in use, asked again after a while or a settings change (it may be upgraded or switched). */
  private kubectlMinorNow(): Promise<number | undefined> {
    const now = this.options.clock.now();
    if (!this.kubectlMinor || now - this.kubectlMinor.at > kubectlMinorTtlMs) {
      const value = this.options.kubectlMinor();
      const holder: NonNullable<SessionService['kubectlMinor']> = { value, at: now };
      this.kubectlMinor = holder;
      void value.then((minor) => {
        if (minor === undefined) delete holder.known;
        else holder.known = minor;
        this.fire();
      });
    }
    return this.kubectlMinor.value;
  }

  /** Writes the token; says once, when it happens, that a group- or world-readable file was made private. */
  private async writeToken(file: string, userName: string, token: TokenResult, format: CredentialFormat): Promise<string | undefined> {
    const report = await this.pastDeadWritersLock(file, () => writeCredentials(file, userName, credentialsOf(token, format, this.options.clock.now())));
    if (report.tightenedModeFrom === undefined) return undefined;
    const note = `${file} was readable by ${report.tightenedModeFrom & 0o004 ? 'other users' : 'its group'} (mode ${(report.tightenedModeFrom & 0o777).toString(8).padStart(3, '0')}); it now holds a token, so it was made readable by you only (600).`;
    this.options.logger.warn(note);
    return note;
  }

  /**
   * Runs `task` in the identity's queue holding its lease, waiting for another window's lease to end (its
   * work is a refresh or a write: seconds, never a person) or to lapse when that window died.
   */
  private exclusively<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.queues.run(key, async () => {
      for (;;) {
        const answer = await this.options.records.tryLease(key, this.instance, this.leaseMs);
        if (answer.acquired) break;
        const waitMs = Math.min(Math.max(answer.until - this.options.clock.now(), 50), 1_000);
        await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, waitMs));
      }
      return this.holdingLease(key, task);
    });
  }

  private async holdingLease<T>(key: string, task: () => Promise<T>): Promise<T> {
    let renewal: Disposable | undefined;
    const renew = () => {
      renewal = this.options.clock.setTimeout(() => {
        void this.options.records.tryLease(key, this.instance, this.leaseMs).catch(() => undefined);
        renew();
      }, this.leaseMs / 3);
    };
    renew();
    try {
      return await task();
    } finally {
      renewal?.dispose();
      await this.options.records.releaseLease(key, this.instance).catch((error: unknown) => this.options.logger.warn(`Could not release the lease of ${key.replace('\u0000', ' ')}: ${messageOf(error)}`));
    }
  }

  /** The token request of a session: the entry's identity, through the client id the session signed in with. */
  private targetOf(user: AksUser, record: SessionRecord): AuthTarget {
    const target = this.targetFor(user);
    return record.clientId ? { ...target, clientId: record.clientId } : target;
  }

  /** The user a record stands for, from the current view or, while the file cannot be read, the last one. */
  private userFor(record: SessionRecord): AksUser | undefined {
    const view = this.status.kind === 'loaded' ? this.status.view : this.lastView;
    const user = view?.users.get(record.userName);
    return isAksUser(user) && user.file === record.file ? user : undefined;
  }

  /** The keeper's refresh of one identity: at most one window does it; the others adopt its result. */
  private refreshIdentity(key: string, planned: PlannedRefresh): Promise<RefreshOutcome> {
    return this.queues.run(key, async () => {
      const lease = await this.options.records.tryLease(key, this.instance, this.leaseMs).catch((error: unknown) => {
        throw new RefreshFailure(`Could not reach the shared sessions: ${messageOf(error)}`, { kind: 'wait' });
      });
      if (!lease.acquired) {
        const until = new Date(lease.until + Math.floor(Math.random() * leaseSpreadMs));
        return { deferredUntil: until, reason: 'another VS Code window is refreshing it' };
      }
      return this.holdingLease(key, async () => {
        const record = await this.options.records.get(key);
        if (!record) {
          this.stopKeeping(key);
          return { deferredUntil: new Date(this.options.clock.now() + 3600_000), reason: 'it was signed out' };
        }
        // Another window refreshed (or signed in anew) since this one planned on the old expiry: take its
        // token. Compared with the plan, not with what this window last saw, which its store watcher may
        // have updated while this refresh waited in the queue.
        if (record.expiresOn > planned.expiresOn.getTime() + 1_000 && record.expiresOn > this.options.clock.now()) {
          this.remember(key, record);
          this.options.logger.info(`"${record.userName}" was refreshed by another window; using its token.`);
          return { expiresOn: new Date(record.expiresOn) };
        }
        const user = this.userFor(record);
        if (!user) throw new RefreshFailure(`"${record.userName}" is not in ${record.file} right now; trying again.`, { kind: 'wait' });
        let token: TokenResult;
        try {
          token = await this.method(record.method).acquireSilent(this.targetOf(user, record), record.homeAccountId, { forceRefresh: true });
        } catch (error) {
          // The session is in the shared record, but this window's token cache does not hold its account: a
          // window whose SecretStorage is not shared live (code-server's browser tabs) signed it in. That
          // window refreshes it; this one steps aside instead of calling it "sign in again".
          if (error instanceof AuthError && error.kind === 'notSignedIn' && record.method !== 'vscodeAccount') {
            return { deferredUntil: new Date(this.options.clock.now() + notHeldHereRetryMs + Math.floor(Math.random() * leaseSpreadMs)), reason: 'the VS Code window that signed it in holds its token cache' };
          }
          if (error instanceof AuthError) throw new RefreshFailure(error.message, error.remedy);
          throw error instanceof RefreshFailure ? error : new RefreshFailure(messageOf(error), { kind: 'wait' });
        }
        const now = await this.options.records.get(key);
        if (!now || now.sessionId !== record.sessionId) {
          return now ? { expiresOn: new Date(now.expiresOn) } : { deferredUntil: new Date(this.options.clock.now() + 3600_000), reason: 'it was signed out' };
        }
        const choice = this.withRefreshTokenOf(this.method(record.method), await this.formatFor(user, record.formatPinned ? record.format : undefined));
        if (choice.format !== record.format) this.options.logger.info(`Writing "${record.userName}" in the ${choice.format} form from now on, because ${choice.reason}.`);
        try {
          await this.writeToken(record.file, record.userName, token, choice.format);
        } catch (error) {
          throw new RefreshFailure(`Could not write ${record.file}: ${messageOf(error)}`, writeRemedy(error, record.file));
        }
        const updated = await this.options.records.update(key, (current) =>
          current?.sessionId === record.sessionId
            ? { ...current, expiresOn: token.expiresOn.getTime(), username: token.account.username, format: choice.format, tokenFingerprint: tokenFingerprint(token.accessToken) }
            : current,
        );
        if (updated) {
          this.records.set(key, updated);
          this.remember(key, updated);
        }
        this.options.logger.info(`Refreshed "${record.userName}" (${token.account.username}); the token now expires at ${token.expiresOn.toISOString()}.`);
        return { expiresOn: token.expiresOn };
      });
    });
  }

  /** Puts our current token back where another program dropped it or put an older one. */
  private async writeBack(key: string, sessionId: string): Promise<void> {
    await this.queues.run(key, async () => {
      const lease = await this.options.records.tryLease(key, this.instance, this.leaseMs).catch(() => ({ acquired: false as const }));
      // Whoever holds the lease is writing these fields now; its write decides.
      if (!lease.acquired) return;
      await this.holdingLease(key, async () => {
        const record = await this.options.records.get(key);
        if (!record || record.sessionId !== sessionId) return;
        const view = await readKubeconfig([record.file]).catch(() => undefined);
        const inFile = view?.users.get(record.userName)?.credential;
        if (!inFile || inFile.kind !== 'aks') return;
        const stillWrong = inFile.format === 'none' || (inFile.tokenFingerprint !== record.tokenFingerprint && (inFile.expiresOn === undefined || inFile.expiresOn.getTime() < record.expiresOn + 1000));
        if (!stillWrong) return;
        const user = this.userFor(record);
        if (!user) return;
        try {
          const token = await this.method(record.method).acquireSilent(this.targetOf(user, record), record.homeAccountId);
          await this.writeToken(record.file, record.userName, token, record.format);
          const updated = await this.options.records.update(key, (current) =>
            current?.sessionId === sessionId ? { ...current, expiresOn: token.expiresOn.getTime(), tokenFingerprint: tokenFingerprint(token.accessToken) } : current,
          );
          if (updated) {
            this.records.set(key, updated);
            this.remember(key, updated);
            this.keeper.track(key, new Date(updated.expiresOn));
          }
        } catch (error) {
          this.options.logger.warn(`Could not write the sign-in fields of "${record.userName}" back: ${messageOf(error)}`);
          void this.keeper.refreshNow(key);
        }
      });
    });
  }

  async signOut(contextName: string): Promise<void> {
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    const target = this.targetFor(user);
    await this.exclusively(key, async () => {
      const record = await this.options.records.get(key);
      await this.pastDeadWritersLock(user.file, () => clearCredentials(user.file, user.name));
      await this.options.records.update(key, () => undefined);
      this.records.delete(key);
      this.stopKeeping(key);
      if (!record) return;
      // The account's refresh token in this client id's cache serves every user of that client: keep it
      // while another session of the same account and client still uses it.
      const others = await this.options.records.all();
      const clientId = record.clientId || target.clientId;
      const method = this.options.methods.get(record.method);
      const stillUsed = [...others.values()].some(
        (other) => other.homeAccountId === record.homeAccountId && (other.clientId || clientId) === clientId && this.options.methods.get(other.method)?.store === method?.store,
      );
      if (method && !stillUsed) await method.signOut({ ...target, clientId }, record.homeAccountId);
    });
    this.options.logger.info(`Signed out of "${contextName}"; the kubeconfig user "${user.name}" is back to its original form.`);
    this.fire();
  }

  /** Rewrites a signed-in entry in another format now, and keeps it in that format (a person chose it). */
  async changeFormat(contextName: string, format: CredentialFormat): Promise<void> {
    const { user } = this.aksUserOf(contextName);
    const key = identityKey(user.file, user.name);
    await this.exclusively(key, async () => {
      const record = await this.options.records.get(key);
      if (!record) throw new Error(`"${contextName}" is not signed in. Sign in first.`);
      const token = await this.method(record.method).acquireSilent(this.targetOf(user, record), record.homeAccountId);
      await this.writeToken(record.file, record.userName, token, format);
      const updated = await this.options.records.update(key, (current) =>
        current?.sessionId === record.sessionId
          ? { ...current, format, formatPinned: true, expiresOn: token.expiresOn.getTime(), tokenFingerprint: tokenFingerprint(token.accessToken) }
          : current,
      );
      if (updated) {
        this.records.set(key, updated);
        this.keep(key, updated);
      }
    });
    this.options.logger.info(`"${contextName}" now holds the ${format} form.`);
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

  /** The store of a method changed (VS Code's accounts): ask again now, so a removed account shows at once. */
  async recheck(method: SignInMethodId): Promise<void> {
    const keys = [...this.records].filter(([key, record]) => record.method === method && this.tracked.has(key)).map(([key]) => key);
    await Promise.all(keys.map((key) => this.keeper.refreshNow(key)));
  }

  /** A setting changed: apply the refresh window now and ask kubectl its version again. */
  settingsChanged(): void {
    this.kubectlMinor = undefined;
    this.keeper.reschedule();
  }

  /** Applies a changed refresh window to every schedule now rather than at the next wake-up. */
  reschedule(): void {
    this.keeper.reschedule();
  }

  private fire(): void {
    for (const listener of [...this.listeners]) listener();
  }

  dispose(): void {
    this.disposed = true;
    this.recheckTimer?.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
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

