// Words for sign-in states, shared by the status bar, the tree and the quick picks so that every view
// says the same thing the same way.
import type { SignInMethodId } from '../auth/methods';
import type { SignInState } from './states';

/** "47m", "1h 05m", "30s"; never negative. */
export function formatTimeLeft(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export function describeState(state: SignInState, now: number): string {
  switch (state.kind) {
    case 'notAks':
      return state.description ? `not an AKS user (${state.description})` : 'not an AKS user';
    case 'signedOut':
      return 'not signed in';
    case 'signingIn':
      return 'signing in…';
    case 'signedIn':
      return `signed in as ${state.account}, expires in ${formatTimeLeft(state.expiresOn.getTime() - now)}${state.refreshing ? ', refreshing…' : ''}`;
    case 'retrying': {
      const what = state.remedy.kind === 'fixFile' ? 'cannot write the kubeconfig' : 'refresh failed';
      return `signed in as ${state.account}, ${what} (retrying in ${formatTimeLeft(state.nextAttemptAt.getTime() - now)}): ${state.reason}`;
    }
    case 'expired':
      return `expired${state.reason ? `: ${state.reason}` : ''}`;
    case 'needsSignIn':
      return state.remedy.kind === 'askAdmin' ? `needs an administrator: ${state.reason}` : `sign in again: ${state.reason}`;
  }
}

/** Whether the state is one the user should act on (status bar error colour, tree warning icon). */
export function needsAttention(state: SignInState): boolean {
  return state.kind === 'expired' || state.kind === 'needsSignIn' || state.kind === 'retrying';
}

/** Escapes text for a Markdown tooltip, table cells included. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (character) => `\\${character}`);
}

const methodLabels: Record<SignInMethodId, string> = { deviceCode: 'device code', browser: 'browser', azureCli: 'Azure CLI', vscodeAccount: 'VS Code account' };

/** How a session was signed in, in a few words. */
export function methodLabel(method: SignInMethodId): string {
  return methodLabels[method] ?? method;
}
