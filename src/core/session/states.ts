// The one sign-in state per context that the status bar, the tree and the quick picks render, computed
// from what the kubeconfig says, the shared session record and this window's keeper.
import type { CredentialFormat, KubeContext, KubeUser, UserCredential } from '../kubeconfig';
import type { KeeperState } from '../keeper';
import type { Remedy } from '../remedy';
import type { SessionRecord, SignInMethodId } from './records';

interface Signed {
  account: string;
  method: SignInMethodId;
}

export type SignInState =
  | { kind: 'notAks'; description: string }
  | { kind: 'signedOut' }
  | { kind: 'signingIn' }
  | (Signed & { kind: 'signedIn'; expiresOn: Date; format: CredentialFormat; refreshing: boolean })
  | (Signed & { kind: 'retrying'; expiresOn: Date; format: CredentialFormat; reason: string; nextAttemptAt: Date; remedy: Remedy })
  | (Signed & { kind: 'expired'; expiresOn: Date; format: CredentialFormat; reason?: string; remedy?: Remedy })
  | (Signed & { kind: 'needsSignIn'; reason: string; remedy: Remedy });

/** Something about a context the person should know and can fix in one step. */
export type ContextWarning = { kind: 'legacyRefused'; kubectlMinor: number };

export interface ContextEntry {
  context: KubeContext;
  user?: KubeUser;
  current: boolean;
  state: SignInState;
  warning?: ContextWarning;
}

export type AksUser = KubeUser & { credential: Extract<UserCredential, { kind: 'aks' }> };

export function isAksUser(user: KubeUser | undefined): user is AksUser {
  return user?.credential.kind === 'aks';
}

export function signInState(user: KubeUser | undefined, record: SessionRecord | undefined, kept: KeeperState | undefined, signingIn: boolean, now: number): SignInState {
  if (!user) return { kind: 'notAks', description: 'user entry missing' };
  if (!isAksUser(user)) return { kind: 'notAks', description: user.credential.kind === 'other' ? user.credential.description : '' };
  if (signingIn) return { kind: 'signingIn' };
  if (!record) return { kind: 'signedOut' };
  const signed: Signed = { account: record.username, method: record.method };
  const expiresOn = new Date(record.expiresOn);
  const format = record.format;
  switch (kept?.kind) {
    case 'needsSignIn':
      return { ...signed, kind: 'needsSignIn', reason: kept.reason, remedy: kept.remedy };
    case 'retrying':
      if (kept.expiresOn.getTime() <= now) return { ...signed, kind: 'expired', expiresOn, format, reason: kept.reason, remedy: kept.remedy };
      return { ...signed, kind: 'retrying', expiresOn, format, reason: kept.reason, nextAttemptAt: kept.nextAttemptAt, remedy: kept.remedy };
    case 'expired':
      return { ...signed, kind: 'expired', expiresOn, format, ...(kept.reason !== undefined ? { reason: kept.reason } : {}), ...(kept.remedy ? { remedy: kept.remedy } : {}) };
    default:
      if (expiresOn.getTime() <= now) return { ...signed, kind: 'expired', expiresOn, format };
      return { ...signed, kind: 'signedIn', expiresOn, format, refreshing: kept?.kind === 'refreshing' };
  }
}

/** Contexts with a session the person may end or refresh. */
export function hasSession(state: SignInState): boolean {
  return state.kind === 'signedIn' || state.kind === 'retrying' || state.kind === 'expired' || state.kind === 'needsSignIn';
}

/** Contexts a sign-in would help. */
export function wantsSignIn(state: SignInState): boolean {
  return state.kind === 'signedOut' || state.kind === 'expired' || state.kind === 'needsSignIn';
}
