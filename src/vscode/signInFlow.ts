// A sign-in as the person sees it, whatever the method: one progress notification for exactly as long as
// the flow runs (its Cancel stops it), the status-bar item showing what is awaited (so Do Not Disturb,
// which hides the notification, hides nothing), and for a device code the code in a modal when the person
// asked for the sign-in, as VS Code's own Microsoft sign-in does. Every pending flow keeps its own code:
// each "Copy Code and Open" copies the code of the flow it belongs to.
import * as vscode from 'vscode';
import type { SignInMethodId, SignInUi } from '../core/auth/methods';
import type { DeviceCodeInfo } from '../core/ports';
import type { SessionService, SignInOutcome } from '../core/session/service';

export interface PendingSignIn {
  id: string;
  /** The context signed in to, or "Azure". */
  contextName: string;
  method: SignInMethodId;
  /** A device code waiting to be entered. */
  code?: DeviceCodeInfo;
  /** A browser page waiting to be finished. */
  url?: string;
}

const pending = new Map<string, PendingSignIn>();
const changed = new vscode.EventEmitter<void>();
let flows = 0;

/** Fires when a sign-in starts or stops waiting for the person. */
export const onDidChangePendingSignIns = changed.event;

/** The sign-ins waiting for the person, oldest first. */
export function pendingSignIns(): PendingSignIn[] {
  return [...pending.values()];
}

/** Copies that flow's own code (the newest flow's when none is named) and opens its page; for a browser flow, opens its page again. */
export async function copyCodeAndOpen(flowId?: string): Promise<void> {
  const flow = flowId !== undefined ? pending.get(flowId) : [...pending.values()].at(-1);
  if (!flow || (!flow.code && !flow.url)) {
    void vscode.window.showInformationMessage('That sign-in is no longer waiting.');
    return;
  }
  if (flow.code) {
    await vscode.env.clipboard.writeText(flow.code.userCode);
    await vscode.env.openExternal(await vscode.env.asExternalUri(vscode.Uri.parse(flow.code.verificationUri)));
    return;
  }
  // Parsed, not built: Uri.toString() would encode the query's & and =, and the sign-in page needs them.
  await vscode.env.openExternal(vscode.Uri.parse(flow.url!));
}

function commandLink(title: string, flowId: string): string {
  return `[${title}](command:aksSignIn.copyCodeAndOpen?${encodeURIComponent(JSON.stringify([flowId]))})`;
}

export interface SignInRun {
  /** The person started this sign-in (a command), so a modal may ask for their attention. */
  askedByPerson: boolean;
}

export function runSignIn(service: SessionService, contextName: string, method: SignInMethodId, run: SignInRun): Thenable<SignInOutcome> {
  return runInteractive(contextName, method, run, (ui, signal) => service.signIn(contextName, ui, { method, signal }));
}

/** Runs one interactive sign-in (`what`: a context name, or "Azure") with the notification, status bar and modal. */
export function runInteractive<T>(what: string, method: SignInMethodId, run: SignInRun, flow: (ui: SignInUi, signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AKS Sign-In: ${what}`, cancellable: true },
    async (progress, cancellation) => {
      const abort = new AbortController();
      const subscription = cancellation.onCancellationRequested(() => abort.abort());
      const id = String(++flows);
      const update = (changes: Partial<PendingSignIn>) => {
        pending.set(id, { ...(pending.get(id) ?? { id, contextName: what, method }), ...changes });
        changed.fire();
      };
      update({});
      progress.report({ message: method === 'browser' ? 'opening the sign-in page…' : method === 'deviceCode' ? 'asking the identity platform for a code…' : 'signing in…' });
      const ui: SignInUi = {
        showDeviceCode(info) {
          update({ code: info });
          progress.report({ message: `open ${info.verificationUri} and enter the code ${info.userCode}. ${commandLink('Copy Code and Open', id)}` });
          if (run.askedByPerson) void showCodeModal(what, info, id);
        },
        async openBrowser(url) {
          update({ url });
          progress.report({ message: `finish signing in on the page in your browser. ${commandLink('Open the Page Again', id)}` });
          return vscode.env.openExternal(vscode.Uri.parse(url));
        },
        // A desktop window forwards the loopback port where it must (Remote-SSH, dev containers). A browser
        // tab's asExternalUri answers with its server's port proxy, a path Entra does not accept as a
        // loopback redirect: there the browser method needs a browser on this machine, and says so.
        ...(vscode.env.uiKind === vscode.UIKind.Desktop
          ? { externalUri: async (localUrl: string) => (await vscode.env.asExternalUri(vscode.Uri.parse(localUrl))).toString(true) }
          : {}),
      };
      try {
        return await flow(ui, abort.signal);
      } finally {
        pending.delete(id);
        changed.fire();
        subscription.dispose();
      }
    },
  );
}

/** The code where a person who asked for it cannot miss it; closing it leaves the sign-in waiting. */
async function showCodeModal(what: string, info: DeviceCodeInfo, flowId: string): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    `Sign in to ${what === 'Azure' ? 'Azure' : `"${what}"`} with the code ${info.userCode}`,
    { modal: true, detail: `Open ${info.verificationUri} and enter the code ${info.userCode}. The code is also in the status bar until the sign-in ends.` },
    'Copy Code and Open',
  );
  if (choice === 'Copy Code and Open' && pending.has(flowId)) await copyCodeAndOpen(flowId);
}
