// `npm start` as a person uses it: run it, open the one printed URL in a browser, sign in
// through VS Code's own UI and the device-login page, then run kubectl against the sandbox cluster with the
// kubeconfig the extension wrote. Ctrl+C must stop everything and exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { assertHostInstalled, cacheRoot, launchBrowser, repoRoot, runCommand } from './harness';
import { createRunDir } from './harness/paths';
import { runKubectl } from '../support/kubectl';
import type { SandboxState } from '../support/sandbox-main';
import { sandboxContexts } from '../support/sandbox';

const statusBarItem = '[id="aks-signin.aks-signin.aksSignIn.status"]';

function portIsOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Processes whose environment names this kubeconfig: code-server, its extension host, terminals. */
function processesUsing(kubeconfigPath: string): number[] {
  const needle = Buffer.from(`KUBECONFIG=${kubeconfigPath}\0`);
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`).includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('npm start serves a VS Code where a person signs in and kubectl then lists namespaces', { timeout: 240_000 }, async (t) => {
  assertHostInstalled();
  const sandboxDir = createRunDir('sandbox');
  const screenshots = join(cacheRoot, 'screenshots', 'sandbox');
  rmSync(screenshots, { recursive: true, force: true });

  const started = Date.now();
  const child = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: { ...process.env, AKS_SANDBOX_DIR: sandboxDir },
    // Its own process group, like a terminal's foreground job, so Ctrl+C is delivered the same way.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close().catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
    }
    rmSync(sandboxDir, { recursive: true, force: true });
  });

  const urlPrinted = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /^\s+(http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)$/m.exec(output);
      if (match?.[1]) {
        clearInterval(timer);
        resolve(match[1]);
      } else if (child.exitCode !== null || Date.now() - started > 90_000) {
        clearInterval(timer);
        reject(new Error(`no URL printed:\n${output}`));
      }
    }, 50);
  });
  const urlAfterMs = Date.now() - started;
  const state = JSON.parse(readFileSync(join(sandboxDir, 'sandbox.json'), 'utf8')) as SandboxState;
  assert.equal(state.url, urlPrinted);
  assert.match(output, /alice@contoso\.onmicrosoft\.com/, 'the demo users are listed');
  assert.match(output, /kubectl get namespaces/);

  // Trusts exactly the sandbox's server certificate, as a person who accepted the browser's warning would.
  browser = await launchBrowser({ trustedCertificates: [readFileSync(join(sandboxDir, 'ca', 'server.crt'), 'utf8')] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const workbench = await context.newPage();
  await workbench.goto(urlPrinted);
  await workbench.locator(statusBarItem, { hasText: 'AKS: not signed in' }).waitFor({ timeout: 90_000 });
  const readyAfterMs = Date.now() - started;
  await workbench.locator('.activitybar [aria-label="AKS Sign-In"]').first().waitFor();
  await workbench.screenshot({ path: join(screenshots, '1-ready.png') });

  await runCommand(workbench, 'AKS: Sign In…');
  const contextRow = workbench.locator('.quick-input-list .monaco-list-row', { hasText: '(current)' });
  await contextRow.waitFor();
  assert.match(await contextRow.innerText(), new RegExp(`^${sandboxContexts.current}\\b`));
  await contextRow.click();
  // In a browser tab the device code comes first: no browser can reach the extension host's loopback here.
  const methodRow = workbench.locator('.quick-input-list .monaco-list-row', { hasText: 'Device code' }).first();
  await methodRow.waitFor();
  assert.match(await methodRow.innerText(), /recommended/);
  await methodRow.click();
  // The person asked for it, so the code is in a modal too; closing it leaves the sign-in waiting.
  const modal = workbench.locator('.monaco-dialog-box', { hasText: 'with the code' });
  await modal.waitFor({ timeout: 30_000 });
  await workbench.keyboard.press('Escape');
  await modal.waitFor({ state: 'hidden' });

  const notice = workbench.locator('.notification-toast', { hasText: 'enter the code' }).first();
  await notice.waitFor({ timeout: 30_000 });
  const noticeText = await notice.innerText();
  const [, deviceLoginUrl, userCode] = /open (https:\/\/\S+) and enter the code (\S+?)\./.exec(noticeText) ?? [];
  assert.ok(deviceLoginUrl && userCode, `the notification names the page and the code: ${noticeText}`);
  assert.equal(deviceLoginUrl, state.deviceLoginUrl);
  await workbench.screenshot({ path: join(screenshots, '2-code.png') });

  const login = await context.newPage();
  await login.goto(deviceLoginUrl);
  await login.getByLabel('Code', { exact: true }).fill(userCode);
  await login.getByRole('button', { name: 'Next', exact: true }).click();
  await login.getByRole('radio', { name: /alice@contoso\.onmicrosoft\.com/ }).check();
  await login.getByRole('button', { name: 'Approve', exact: true }).click();
  await login.getByText('You are signed in').waitFor();
  await login.close();

  // The status bar turns from "not signed in" into the time left on the token.
  await workbench.locator(statusBarItem, { hasText: /AKS \d+\s*(h|min|m)/ }).waitFor({ timeout: 30_000 });
  const signedInAfterMs = Date.now() - started;
  await workbench.screenshot({ path: join(screenshots, '3-signed-in.png') });

  assert.ok(state.kubectlPath && existsSync(state.kubectlPath), 'the sandbox put kubectl 1.33 on the terminal PATH');
  const kubectl = await runKubectl(state.kubectlPath, ['get', 'namespaces'], { kubeconfig: state.kubeconfigPath });
  assert.equal(kubectl.code, 0, kubectl.stderr);
  assert.match(kubectl.stdout, /^NAME\s+STATUS\s+AGE/m);
  assert.match(kubectl.stdout, /^default\s+Active/m);
  assert.match(kubectl.stdout, /^kube-system\s+Active/m);

  // The same command in VS Code's integrated terminal, which must inherit KUBECONFIG and PATH from the sandbox.
  const terminalOutput = join(state.workspaceFolder, 'terminal-namespaces.txt');
  await runCommand(workbench, 'Terminal: Create New Terminal');
  await workbench.locator('.terminal .xterm-helper-textarea').first().waitFor({ state: 'attached' });
  await workbench.keyboard.type(`kubectl get namespaces > ${terminalOutput} 2>&1\n`);
  const deadline = Date.now() + 30_000;
  while (!(existsSync(terminalOutput) && /^kube-system\s+Active/m.test(readFileSync(terminalOutput, 'utf8')))) {
    assert.ok(Date.now() < deadline, `the terminal's kubectl listed no namespaces: ${existsSync(terminalOutput) ? readFileSync(terminalOutput, 'utf8') : 'no output file'}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await workbench.screenshot({ path: join(screenshots, '4-terminal.png') });

  const before = processesUsing(state.kubeconfigPath);
  assert.ok(before.length >= 2, `code-server and its extension host run with the sandbox env (${before.length} found)`);
  await browser.close();
  browser = undefined;
  process.kill(-child.pid!, 'SIGINT');
  const stopStarted = Date.now();
  assert.equal(await exited, 0, output);
  const stopMs = Date.now() - stopStarted;
  assert.deepEqual(processesUsing(state.kubeconfigPath), [], 'nothing the sandbox started survives Ctrl+C');
  for (const url of [urlPrinted, state.deviceLoginUrl, state.apiServerUrl]) {
    assert.equal(await portIsOpen(url), false, `${url} is closed`);
  }
  assert.equal(existsSync(join(sandboxDir, 'sandbox.json')), false);
  process.stdout.write(
    `npm start: URL after ${urlAfterMs} ms, workbench with status bar after ${readyAfterMs} ms, signed in after ${signedInAfterMs} ms, stopped in ${stopMs} ms\n`,
  );
});
