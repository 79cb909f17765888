// Which sign-in method a sign-in uses: the one aksSignIn.signInMethod names, else a pick of the methods
// that work in this window with the likely one first (the one a session used last, or what `auto` means for
// the identity), each with one line on when to use it. Cluster sign-in and the Azure sign-in both ask here.
import * as vscode from 'vscode';
import { autoMethod, type SignInMethodId, type SignInMethods } from '../core/auth/methods';
import { signInMethodSetting } from './settings';

/** The sign-in methods this window can offer, and whether a browser here reaches its loopback address. */
export interface MethodsHere {
  methods: SignInMethods;
  available(): Promise<Set<SignInMethodId>>;
  browserReachesLoopback(): boolean;
}

interface MethodPick extends vscode.QuickPickItem {
  method: SignInMethodId;
}

export interface MethodQuestion {
  title: string;
  /** kubelogin's `--login` of the entry, which `auto` follows. */
  loginMode?: string;
  /** The method the session used last, when it can still run here. */
  remembered?: SignInMethodId;
}

export async function chooseMethod(here: MethodsHere, question: MethodQuestion): Promise<SignInMethodId | undefined> {
  const setting = signInMethodSetting();
  const available = await here.available();
  if (setting !== 'auto') {
    if (available.has(setting)) return setting;
    void vscode.window.showErrorMessage(`aksSignIn.signInMethod is "${setting}", which cannot be used here${setting === 'azureCli' ? ' (the Azure CLI, az, was not found)' : ''}. Choose another method in the setting, or set it to "auto".`);
    return undefined;
  }
  const auto = autoMethod({ ...(question.loginMode ? { loginMode: question.loginMode } : {}), browserReachesLoopback: here.browserReachesLoopback(), available });
  const remembered = question.remembered && available.has(question.remembered) ? question.remembered : undefined;
  const preferred = remembered ?? auto.method;
  // A browser that cannot reach this machine's loopback would wait five minutes for nothing.
  const offered = [...available].filter((id) => id !== 'browser' || here.browserReachesLoopback() || preferred === 'browser');
  const ordered = [preferred, ...offered.filter((id) => id !== preferred)];
  if (ordered.length === 1) return preferred;
  const picked = await vscode.window.showQuickPick<MethodPick>(
    ordered.map((id) => {
      const method = here.methods.get(id)!;
      const note = id !== preferred ? undefined : remembered ? 'used last time' : `recommended: ${auto.reason}`;
      return { method: id, label: method.label, description: note, detail: method.detail };
    }),
    { title: question.title, placeHolder: 'How do you want to sign in?', matchOnDetail: true },
  );
  return picked?.method;
}
