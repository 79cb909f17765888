// In the extension host of a window that keeps nothing itself (its folder points the extension at no
// kubeconfig): it opens other VS Code windows on the sandbox workspace, signs in in one of them through the
// UI, and watches them keep one identity current together — one refresh per token lifetime whatever the
// number of windows, every window's status bar current, a closed window handing over, a killed extension
// host's lease lapsing — while kubectl 1.33 keeps working.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as vscode from 'vscode';
import type { AksSignInApi } from '../../../src/extension';
import { waitFor } from '../../support/wait-for';
import { harness, paletteSteps } from '../harness/client';
import { windowsVariable, type WindowsSettings } from './settings';

const settings = JSON.parse(process.env[windowsVariable] ?? 'null') as WindowsSettings;
const account = 'alice@contoso.onmicrosoft.com';
type Started = Awaited<ReturnType<AksSignInApi['whenStarted']>>;

function platform<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, settings.identityPlatformUrl), { method, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`${path} answered ${res.statusCode}: ${text}`))));
    });
    req.once('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const refreshes = async () =>
  (await platform<Array<{ grantType?: string; status: number }>>('GET', '/_test/requests')).filter((entry) => entry.grantType === 'refresh_token');

function kubectl(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { KUBECONFIG: settings.kubeconfigPath, HOME: mkdtempSync(join(tmpdir(), 'kubectl-home-')), PATH: '' };
    execFile(settings.kubectl133, ['--context', settings.context, 'get', 'namespaces', '-o', 'name'], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function assertKubectlWorks(when: string): Promise<void> {
  const result = await kubectl();
  assert.equal(result.code, 0, `kubectl 1.33 ${when}: ${result.stderr}`);
  assert.match(result.stdout, /namespace\/kube-system/);
}

const tokenLine = () => readFileSync(settings.kubeconfigPath, 'utf8').match(/^ {4}token: .*$/m)?.[0];

/** The token each user of the kubeconfig holds now. */
function tokens(): Map<string, string> {
  const config = parse(readFileSync(settings.kubeconfigPath, 'utf8')) as { users?: Array<{ name: string; user?: { token?: string } }> };
  return new Map((config.users ?? []).flatMap((entry) => (typeof entry.user?.token === 'string' ? [[entry.name, entry.user.token] as [string, string]] : [])));
}

/**
 * Watches every identity's token until each has been replaced `lifetimes` times, then checks the identity
 * platform served exactly as many refreshes as tokens appeared: one per lifetime per identity.
 */
async function assertOneRefreshPerLifetime(lifetimes: number, when: string): Promise<void> {
  const seen = new Map<string, Set<string>>();
  const sample = () => {
    for (const [user, token] of tokens()) {
      if (!seen.has(user)) seen.set(user, new Set());
      seen.get(user)!.add(token);
    }
  };
  sample();
  const identities = seen.size;
  assert.ok(identities > 0, 'some identity holds a token');
  const served = (await refreshes()).length;
  await waitFor(
    () => {
      sample();
      return [...seen.values()].every((set) => set.size > lifetimes);
    },
    lifetimes * 180_000,
    `every identity refreshed ${lifetimes} time(s) ${when}`,
    250,
  );
  // Give a second window the time it would take to refresh too, then count.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  sample();
  const written = [...seen.values()].reduce((sum, set) => sum + set.size - 1, 0);
  const now = await refreshes();
  assert.equal(now.length - served, written, `one refresh per token written for ${identities} identities ${when} (served ${now.length - served}, written ${written})`);
  assert.ok(now.every((entry) => entry.status === 200), 'no window spent a refresh token another had already used');
}

/** The AKS item of a window's status bar, as a person reads it. */
async function statusOf(pageId: string): Promise<string> {
  const [text] = await harness.steps(pageId, [{ text: '.statusbar' }]);
  return /AKS(?::[^\n]*| \d+h \d+m| \d+m| \d+s)/.exec(text ?? '')?.[0] ?? '(no AKS item)';
}

/** Minutes and seconds left as a status bar says them, in seconds. */
function secondsLeft(status: string): number | undefined {
  const match = /AKS (?:(\d+)h )?(\d+)(m|s)$/.exec(status);
  if (!match) return undefined;
  return Number(match[1] ?? 0) * 3600 + Number(match[2]) * (match[3] === 'm' ? 60 : 1);
}

/** Both windows say the same thing about the token, within the minute a status bar rounds to. */
async function assertStatusBarsAgree(pages: string[], when: string): Promise<void> {
  await waitFor(
    async () => {
      const left = await Promise.all(pages.map(async (page) => secondsLeft(await statusOf(page))));
      return left.every((value) => value !== undefined) && Math.max(...(left as number[])) - Math.min(...(left as number[])) <= 60;
    },
    30_000,
    `every window's status bar showing the current expiry ${when}`,
    500,
  );
}

interface Lease {
  owner: string;
  until: number;
}

function leases(api: Started): Lease[] {
  try {
    const store = JSON.parse(readFileSync(api.sessionStore, 'utf8')) as { leases?: Record<string, Lease> };
    return Object.values(store.leases ?? {});
  } catch {
    return [];
  }
}

describe('several VS Code windows keep one sign-in current together', function () {
  let api: Started;
  const windows: string[] = [];

  before(async () => {
    assert.ok(settings, `${windowsVariable} is set by the outer test`);
    const extension = vscode.extensions.getExtension<AksSignInApi>('aks-signin.aks-signin');
    assert.ok(extension);
    api = await (await extension.activate()).whenStarted();
  });

  it('1. a second and a third window on the same workspace both list the context as not signed in', async () => {
    for (let i = 0; i < 2; i++) windows.push(await harness.openWindow(settings.workspaceFolder));
    for (const page of windows) {
      await harness.steps(page, [{ waitFor: '.statusbar >> text=AKS: not signed in' }], 120_000);
    }
  });

  it('2. signing in in one window signs in every window', async () => {
    const [first] = windows as [string];
    await harness.steps(first, [
      ...paletteSteps('AKS: Sign In…'),
      { waitFor: `.quick-input-widget >> text=${settings.context}` },
      { type: settings.context },
      { press: 'Enter' },
      // A person who asked for the sign-in gets the code in a modal; it stays in the status bar after.
      { waitFor: '.monaco-dialog-box >> text=/with the code/' },
    ]);
    const [dialog] = await harness.steps(first, [{ text: '.monaco-dialog-box' }]);
    const code = /with the code ([A-Z0-9]{6,})/.exec(dialog ?? '')?.[1];
    assert.ok(code, `the modal shows the code: ${dialog}`);
    await harness.steps(first, [{ press: 'Escape' }, { waitFor: `.statusbar >> text=AKS: enter code ${code}` }]);
    await platform('POST', '/_test/device-login', { userCode: code, username: account });
    await waitFor(() => tokenLine() !== undefined, 60_000, 'the token being written');
    await assertStatusBarsAgree(windows, 'after the sign-in');
    await assertKubectlWorks('after the sign-in');
  });

  it('3. with several windows, one refresh per token lifetime and every status bar current', async function () {
    this.timeout(settings.lifetimes * 200_000);
    await assertOneRefreshPerLifetime(settings.lifetimes, `with ${windows.length} windows`);
    await assertStatusBarsAgree(windows, 'after the refreshes');
    for (const page of windows) assert.doesNotMatch(await statusOf(page), /sign in again|failed|expired/, 'no window reports a problem');
    await assertKubectlWorks('after the refreshes');
  });

  it('4. a window closed mid-way hands over to the others', async function () {
    this.timeout(240_000);
    await harness.closePage(windows.pop()!);
    await assertOneRefreshPerLifetime(1, 'after a window closed');
    await assertStatusBarsAgree(windows, 'after a window closed');
    await assertKubectlWorks('after a window closed');
  });

  it('5. an extension host killed during its refresh: another window takes over within one refresh window', async function () {
    this.timeout(300_000);
    windows.push(await harness.openWindow(settings.workspaceFolder));
    await harness.steps(windows.at(-1)!, [{ waitFor: '.statusbar >> text=/AKS \\d+[ms]/' }], 120_000);
    // A slow token endpoint keeps the refresher inside its refresh long enough to be killed there.
    await platform('POST', '/_test/controls', { latencyMs: 20_000 });
    let holder: number | undefined;
    try {
      await waitFor(
        () => {
          const lease = leases(api).find((candidate) => candidate.until > Date.now());
          holder = lease ? Number(lease.owner.split('-')[0]) : undefined;
          return holder !== undefined;
        },
        180_000,
        'a window taking the lease to refresh',
        100,
      );
      assert.notEqual(holder, process.pid, 'this window keeps nothing, so it never refreshes');
      const before = tokenLine();
      process.kill(holder!, 'SIGKILL');
      const killedAt = Date.now();
      await platform('POST', '/_test/controls', { latencyMs: 0 });
      await waitFor(() => tokenLine() !== before, 90_000, 'another window refreshing after the refresher was killed', 500);
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs < 60_000, `taken over within the one-minute refresh window (${Math.round(tookMs / 1000)} s)`);
      process.stdout.write(`taken over ${Math.round(tookMs / 1000)} s after the refresher was killed\n`);
    } finally {
      await platform('POST', '/_test/controls', { latencyMs: 0 });
    }
    await assertKubectlWorks('after the refresher was killed');
  });
});
