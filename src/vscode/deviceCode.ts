// The device-code sign-in as the user sees it: one progress notification, there for exactly as long as
// the flow runs, that shows the page and the code, links an action that copies the code and opens the
// page (through asExternalUri, so Remote-SSH and Codespaces work), and whose Cancel stops polling.
import * as vscode from 'vscode';
import type { DeviceCodeInfo, DeviceCodePrompt } from '../core/ports';
import type { SessionService, SignInOutcome } from '../core/session/service';

/** The codes of the sign-ins now waiting for approval, by flow. */
const waiting = new Map<string, DeviceCodeInfo>();
let flows = 0;

/** A notification's link: copies that flow's own code (the newest when none is named) and opens its page. */
export async function copyCodeAndOpen(flowId?: string): Promise<void> {
  const info = flowId !== undefined ? waiting.get(flowId) : [...waiting.values()].at(-1);
  if (!info) {
    void vscode.window.showInformationMessage('That sign-in is no longer waiting for a code.');
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
      const flowId = String(++flows);
      progress.report({ message: 'asking the identity platform for a code…' });
      const prompt: DeviceCodePrompt = {
        show(info) {
          waiting.set(flowId, info);
          const link = `command:aksSignIn.copyCodeAndOpen?${encodeURIComponent(JSON.stringify([flowId]))}`;
          progress.report({ message: `open ${info.verificationUri} and enter the code ${info.userCode}. [Copy Code and Open](${link})` });
        },
      };
      try {
        return await service.signIn(contextName, prompt, abort.signal);
      } finally {
        waiting.delete(flowId);
        subscription.dispose();
      }
    },
  );
}
