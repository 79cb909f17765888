// The VS Code account method: the token comes from VS Code's own Microsoft sign-in (the `microsoft`
// authentication provider, `microsoft-sovereign-cloud` outside the public cloud), which uses the OS broker
// on Windows and a session the person may already have. VS Code keeps that session and its refresh token;
// no refresh token of ours exists, and signing out here leaves the VS Code account alone.
import * as vscode from 'vscode';
import { scopesFor, tenantOf } from '../core/auth/clouds';
import { AuthError } from '../core/auth/errors';
import type { SignInMethod } from '../core/auth/methods';
import type { AuthTarget, TokenResult } from '../core/auth/types';
import { jwtClaims } from '../core/kubeconfig/identity';

export function providerFor(environment: string): string {
  return environment.trim().toLowerCase() === 'azurepubliccloud' || environment.trim() === '' ? 'microsoft' : 'microsoft-sovereign-cloud';
}

/** The provider passes every scope through except its own two: VSCODE_TENANT picks the tenant. */
export function sessionScopes(target: AuthTarget): string[] {
  return [...scopesFor(target), `VSCODE_TENANT:${tenantOf(target)}`];
}

function tokenOf(session: vscode.AuthenticationSession): TokenResult {
  const claims = jwtClaims(session.accessToken) ?? {};
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  if (exp === undefined) throw new AuthError('platformError', 'VS Code\'s Microsoft account returned a token without an expiry. Try again, or sign in with another method.', { code: 'no_exp', retryable: false });
  return {
    accessToken: session.accessToken,
    expiresOn: new Date(exp * 1000),
    account: {
      homeAccountId: session.account.id,
      username: session.account.label,
      tenantId: typeof claims['tid'] === 'string' ? claims['tid'] : '',
    },
  };
}

export function vscodeAccountMethod(): SignInMethod {
  return {
    id: 'vscodeAccount',
    label: 'VS Code\'s Microsoft account',
    detail: 'Use the work account you are signed in to VS Code with (on Windows through the system\'s sign-in). Nothing to approve when that account may use the cluster.',
    store: 'vscode',
    async acquire(target) {
      const session = await vscode.authentication.getSession(providerFor(target.environment), sessionScopes(target), { createIfNone: true });
      return tokenOf(session);
    },
    async acquireSilent(target) {
      // VS Code refreshes its own session; asking again silently returns the current token or a new one.
      const session = await vscode.authentication.getSession(providerFor(target.environment), sessionScopes(target), { silent: true });
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
