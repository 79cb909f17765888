// The device-code sign-in as the user sees it: one progress notification that shows the URL and the
// code for as long as the flow runs (its Cancel stops polling), and one notification whose button
// copies the code and opens the page, through asExternalUri so Remote-SSH and Codespaces work.
import * as vscode from 'vscode';
import type { DeviceCodeInfo, DeviceCodePrompt } from '../core/ports';
import type { SessionService, SignInOutcome } from '../core/session/service';

const copyAndOpen = 'Copy Code and Open';

async function offerCopyAndOpen(contextName: string, info: DeviceCodeInfo): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    `To sign in to "${contextName}", open ${info.verificationUri} and enter the code ${info.userCode}.`,
    copyAndOpen,
  );
  if (choice !== copyAndOpen) return;
  await vscode.env.clipboard.writeText(info.userCode);
  await vscode.env.openExternal(await vscode.env.asExternalUri(vscode.Uri.parse(info.verificationUri)));
}

export function signInWithDeviceCode(service: SessionService, contextName: string): Thenable<SignInOutcome> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AKS Sign-In: ${contextName}`, cancellable: true },
    async (progress, cancellation) => {
      const abort = new AbortController();
      const subscription = cancellation.onCancellationRequested(() => abort.abort());
      progress.report({ message: 'asking the identity platform for a code…' });
      const prompt: DeviceCodePrompt = {
        show(info) {
          progress.report({ message: `open ${info.verificationUri} and enter the code ${info.userCode}` });
          void offerCopyAndOpen(contextName, info);
        },
      };
      try {
        return await service.signIn(contextName, prompt, abort.signal);
      } finally {
        subscription.dispose();
      }
    },
  );
}
