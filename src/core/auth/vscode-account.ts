// The VS Code account method, on a port of VS Code's authentication API: the token comes from VS Code's
// own Microsoft sign-in (the `microsoft` provider; `microsoft-sovereign-cloud` outside the public cloud),
// which uses the OS broker on Windows and a session the person may already have. VS Code keeps that
// session and its refresh token; no refresh token of ours exists, and signing out here leaves the VS Code
// account alone. src/vscode/vscodeAccount.ts hands it vscode.authentication.
import { scopesFor, tenantOf } from './clouds';
import { AuthError } from './errors';
import type { SignInMethod } from './methods';
import type { AuthTarget, TokenResult } from './types';
import { jwtClaims } from '../kubeconfig/identity';

/** What the method needs of `vscode.authentication` (its `getSession`, with the options it uses). */
export interface AccountSessions {
  getSession(providerId: string, scopes: readonly string[], options: { createIfNone?: boolean; silent?: boolean }): PromiseLike<AccountSession | undefined>;
}

export interface AccountSession {
  accessToken: string;
  account: { id: string; label: string };
}

export function providerFor(environment: string): string {
  const name = environment.trim().toLowerCase();
  return name === 'azurepubliccloud' || name === '' ? 'microsoft' : 'microsoft-sovereign-cloud';
}

/** The provider passes every scope through except its own two: VSCODE_TENANT picks the tenant. */
export function sessionScopes(target: AuthTarget): string[] {
  return [...scopesFor(target), `VSCODE_TENANT:${tenantOf(target)}`];
}

function tokenOf(session: AccountSession): TokenResult {
  const claims = jwtClaims(session.accessToken) ?? {};
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  if (exp === undefined) throw new AuthError('platformError', 'VS Code\'s Microsoft account returned a token without an expiry. Try again, or sign in with another method.', { code: 'no_exp', retryable: false });
  return {
    accessToken: session.accessToken,
    expiresOn: new Date(exp * 1000),
    account: { homeAccountId: session.account.id, username: session.account.label, tenantId: typeof claims['tid'] === 'string' ? claims['tid'] : '' },
  };
}

export interface VscodeAccountOptions {
  sessions: AccountSessions;
  /** The authentication provider for a cloud; VS Code's own by default. */
  providerFor?: (environment: string) => string;
}

export function vscodeAccountMethod(options: VscodeAccountOptions): SignInMethod {
  const provider = options.providerFor ?? providerFor;
  return {
    id: 'vscodeAccount',
    label: 'VS Code\'s Microsoft account',
    detail: 'Use the work account you are signed in to VS Code with (on Windows through the system\'s sign-in). Nothing to approve when that account may use the cluster.',
    store: 'vscode',
    async acquire(target) {
      const session = await options.sessions.getSession(provider(target.environment), sessionScopes(target), { createIfNone: true });
      if (!session) throw new AuthError('cancelled', 'Sign-in with VS Code\'s Microsoft account was cancelled. Nothing was changed; start the sign-in again when you are ready.', { code: 'cancelled' });
      return tokenOf(session);
    },
    async acquireSilent(target) {
      // VS Code refreshes its own session; asking again silently returns the current token or a new one.
      const session = await options.sessions.getSession(provider(target.environment), sessionScopes(target), { silent: true });
      if (!session) {
        throw new AuthError('signInAgain', 'You are no longer signed in to VS Code with the Microsoft account this cluster used. Sign in again.', { code: 'vscode_session_removed', retryable: false });
      }
      return tokenOf(session);
    },
    async signOut() {
      // The account is VS Code's, used by other extensions too: it stays signed in there.
    },
  };
}
