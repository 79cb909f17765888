// The device-code sign-in as the user sees it: one progress notification, there for exactly as long as
// the flow runs, that shows the page and the code, links an action that copies the code and opens the
// page (through asExternalUri, so Remote-SSH and Codespaces work), and whose Cancel stops polling.
import * as vscode from 'vscode';
import type { DeviceCodeInfo, DeviceCodePrompt } from '../core/ports';
import type { SessionService, SignInOutcome } from '../core/session/service';

/** The codes of the sign-ins now waiting for approval, newest last. */
const waiting: DeviceCodeInfo[] = [];

/** The notification's link: copies the newest waiting code and opens its page. */
export async function copyCodeAndOpen(): Promise<void> {
  const info = waiting.at(-1);
  if (!info) {
    void vscode.window.showInformationMessage('No sign-in is waiting for a code.');
    return;
  }
  await vscode.env.clipboard.writeText(info.userCode);
  await vscode.env.openExternal(await vscode.env.asExternalUri(vscode.Uri.parse(info.verificationUri)));
}

export function signInWithDeviceCode(service: SessionService, contextName: string): Thenable<SignInOutcome> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AKS Sign-In: ${contextName}`, cancellable: true },
    async (progress, cancellation) => {
      const abort = new AbortController();
      const subscription = cancellation.onCancellationRequested(() => abort.abort());
      let shown: DeviceCodeInfo | undefined;
      progress.report({ message: 'asking the identity platform for a code…' });
      const prompt: DeviceCodePrompt = {
        show(info) {
          shown = info;
          waiting.push(info);
          progress.report({
            message: `open ${info.verificationUri} and enter the code ${info.userCode}. [Copy Code and Open](command:aksSignIn.copyCodeAndOpen)`,
          });
        },
      };
      try {
        return await service.signIn(contextName, prompt, abort.signal);
      } finally {
        if (shown) waiting.splice(waiting.indexOf(shown), 1);
        subscription.dispose();
      }
    },
  );
}
