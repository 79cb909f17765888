// VS Code's own authentication API behind the core's VS Code account method (src/core/auth/vscode-account.ts).
import * as vscode from 'vscode';
import { vscodeAccountMethod as method } from '../core/auth/vscode-account';
import type { SignInMethod } from '../core/auth/methods';

export function vscodeAccountMethod(): SignInMethod {
  return method({ sessions: { getSession: (providerId, scopes, options) => vscode.authentication.getSession(providerId, scopes, options) } });
}
