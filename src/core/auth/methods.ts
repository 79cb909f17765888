// A way to get and keep a token for an AKS identity. The session and the keeper hold a method id per
// session and call these four things; they never know whether a device code, a browser, the Azure CLI or
// VS Code's own account is behind them. One file per method: device code and browser on MSAL (engine.ts),
// the Azure CLI as a child process (azure-cli.ts), VS Code's Microsoft account as an adapter in the VS Code
// layer.
import type { DeviceCodeInfo } from '../ports';
import type { AuthTarget, TokenResult } from './types';

export type SignInMethodId = 'deviceCode' | 'browser' | 'azureCli' | 'vscodeAccount';

/** What a method may ask of the person while it signs in. */
export interface SignInUi {
  /** Device code: show the code and the page, until the flow ends. */
  showDeviceCode(info: DeviceCodeInfo): void;
  /** Browser: open the sign-in page in the person's browser; false when they would not open it. */
  openBrowser(url: string): Promise<boolean>;
  /**
   * The address under which the person's browser reaches `localUrl` (a loopback URL of this machine):
   * itself locally, a forwarded port over Remote-SSH or in a dev container. Absent: the browser runs here.
   */
  externalUri?(localUrl: string): Promise<string>;
}

export interface SignInMethod {
  readonly id: SignInMethodId;
  /** For the quick pick: what it is, and one line on when to use it. */
  readonly label: string;
  readonly detail: string;
  /**
   * Which store holds what the method keeps: sessions of methods that share one (device code and browser
   * share MSAL's cache per client id) must be counted together before an account is removed from it.
   */
  readonly store: 'msal' | 'azureCli' | 'vscode';
  /** A token for the identity, involving the person as far as the method needs. */
  acquire(target: AuthTarget, ui: SignInUi, signal?: AbortSignal): Promise<TokenResult>;
  /**
   * A token without the person; `forceRefresh` asks for a new one rather than a cached one, `claims` answers
   * a resource's claims challenge where the method can (it fails with `interactionRequired` otherwise).
   */
  acquireSilent(target: AuthTarget, homeAccountId: string, options?: { forceRefresh?: boolean; claims?: string }): Promise<TokenResult>;
  /** Forgets what this method keeps for the account, where it is ours to forget. */
  signOut(target: AuthTarget, homeAccountId: string): Promise<void>;
}

export type SignInMethods = ReadonlyMap<SignInMethodId, SignInMethod>;

export const signInMethodIds: readonly SignInMethodId[] = ['browser', 'deviceCode', 'azureCli', 'vscodeAccount'];

/** What decides `auto`: the entry's own kubelogin mode, and whether a loopback reaches the person's browser. */
export interface MethodContext {
  /** kubelogin's `--login` value from the kubeconfig entry, if any. */
  loginMode?: string;
  /** Whether a redirect to http://localhost reaches this machine from the person's browser. */
  browserReachesLoopback: boolean;
  /** Methods this host can run at all (the VS Code account needs VS Code, the Azure CLI needs az). */
  available: ReadonlySet<SignInMethodId>;
}

/** The method `auto` means for an identity, and why. */
export function autoMethod(context: MethodContext): { method: SignInMethodId; reason: string } {
  const mode = context.loginMode?.toLowerCase();
  if (mode === 'azurecli' && context.available.has('azureCli')) return { method: 'azureCli', reason: 'the entry asks kubelogin for the Azure CLI login (--login azurecli)' };
  if (context.browserReachesLoopback && context.available.has('browser')) return { method: 'browser', reason: 'a browser on this machine can finish the sign-in' };
  return { method: 'deviceCode', reason: context.browserReachesLoopback ? 'the browser method is not available here' : 'no browser can reach this machine\'s loopback address, so the code is entered on any device' };
}
