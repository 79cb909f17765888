// The status-bar item: the time left on the soonest-expiring signed-in identity, coloured when the
// user should act; hidden when the kubeconfig has no AKS identity at all.
import * as vscode from 'vscode';
import { describeState, escapeMarkdown, formatTimeLeft, methodLabel, needsAttention } from '../core/session/describe';
import type { ContextEntry, SessionService } from '../core/session/service';
import { onDidChangePendingSignIns, pendingSignIns } from './signInFlow';

const tickMs = 15_000;

export class SignInStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('aksSignIn.status', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: { dispose(): void };
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly service: SessionService,
    private readonly refreshBeforeMinutes: () => number,
  ) {
    this.item.name = 'AKS Sign-In';
    this.item.command = 'aksSignIn.statusMenu';
    const sessions = service.onDidChange(() => this.render());
    const pending = onDidChangePendingSignIns(() => this.render());
    this.subscription = { dispose: () => (sessions.dispose(), pending.dispose()) };
    this.render();
  }

  render(): void {
    // A sign-in waiting for the person comes first: under Do Not Disturb the notification is hidden.
    const waiting = pendingSignIns().filter((flow) => flow.code || flow.url).at(-1);
    if (waiting) {
      this.item.text = waiting.code ? `$(key) AKS: enter code ${waiting.code.userCode}` : '$(globe) AKS: finish signing in in your browser';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.command = { title: 'Copy Code and Open', command: 'aksSignIn.copyCodeAndOpen', arguments: [waiting.id] };
      this.item.tooltip = waiting.code
        ? `Sign-in to "${waiting.contextName}" waits for the code ${waiting.code.userCode} at ${waiting.code.verificationUri}. Click to copy the code and open the page.`
        : `Sign-in to "${waiting.contextName}" waits for the page in your browser. Click to open it again.`;
      this.item.accessibilityInformation = { label: `AKS Sign-In: ${this.item.text.replace(/\$\([^)]*\)\s*/g, '')}` };
      this.item.show();
      this.setTicking(false);
      return;
    }
    this.item.command = 'aksSignIn.statusMenu';
    const status = this.service.kubeconfig;
    // Signed-in sessions whose file cannot be read right now: they are kept, and the person should know why
    // nothing is listed.
    if (status.kind !== 'loaded' && this.service.sessions().length > 0) {
      this.item.text = '$(warning) AKS: kubeconfig unreadable';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      const why = status.kind === 'invalid' ? status.error.message : `No kubeconfig was found at ${status.paths.join(', ')}.`;
      this.item.tooltip = new vscode.MarkdownString(`**AKS Sign-In**\n\n${escapeMarkdown(why)}\n\nYour sign-ins are kept and written again as soon as the file can be read.`);
      this.item.accessibilityInformation = { label: 'AKS Sign-In: the kubeconfig cannot be read' };
      this.item.show();
      this.setTicking(false);
      return;
    }
    const aks = this.service.entries().filter((entry) => entry.state.kind !== 'notAks');
    if (aks.length === 0) {
      this.item.hide();
      this.setTicking(false);
      return;
    }
    const now = Date.now();
    const signedIn = aks.filter((entry) => 'expiresOn' in entry.state || entry.state.kind === 'needsSignIn');
    const soonest = signedIn
      .filter((entry): entry is ContextEntry & { state: { expiresOn: Date } } => 'expiresOn' in entry.state)
      .sort((a, b) => a.state.expiresOn.getTime() - b.state.expiresOn.getTime())[0];
    const attention = signedIn.some((entry) => needsAttention(entry.state));

    if (signedIn.length === 0) {
      this.item.text = aks.some((entry) => entry.state.kind === 'signingIn') ? '$(sync~spin) AKS signing in…' : '$(key) AKS: not signed in';
      this.item.backgroundColor = undefined;
    } else if (attention) {
      const first = signedIn.find((entry) => needsAttention(entry.state))!;
      this.item.text = first.state.kind === 'needsSignIn' ? '$(error) AKS: sign in again' : first.state.kind === 'expired' ? '$(error) AKS expired' : '$(warning) AKS refresh failed';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (soonest) {
      const left = soonest.state.expiresOn.getTime() - now;
      this.item.text = `$(key) AKS ${formatTimeLeft(left)}`;
      this.item.backgroundColor = left <= this.refreshBeforeMinutes() * 60_000 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    }
    this.item.tooltip = this.tooltip(aks, now);
    this.item.accessibilityInformation = { label: `AKS Sign-In: ${this.item.text.replace(/\$\([^)]*\)\s*/g, '')}` };
    this.item.show();
    this.setTicking(signedIn.length > 0);
  }

  private tooltip(entries: ContextEntry[], now: number): vscode.MarkdownString {
    const tooltip = new vscode.MarkdownString('**AKS Sign-In**\n\n| Context | State | Expires at | Format | Method |\n|---|---|---|---|---|\n');
    for (const { context, state } of entries) {
      const expires = 'expiresOn' in state ? state.expiresOn.toLocaleTimeString() : '';
      const format = 'format' in state ? state.format : '';
      const method = 'method' in state ? methodLabel(state.method) : '';
      tooltip.appendMarkdown(`| ${escapeMarkdown(context.name)} | ${escapeMarkdown(describeState(state, now))} | ${expires} | ${format} | ${escapeMarkdown(method)} |\n`);
    }
    tooltip.appendMarkdown('\nClick for sign-in actions.');
    return tooltip;
  }

  private setTicking(on: boolean): void {
    if (on && !this.ticker) this.ticker = setInterval(() => this.render(), tickMs);
    if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    this.setTicking(false);
    this.subscription.dispose();
    this.item.dispose();
  }
}
