// Starts code-server (VS Code 1.100 served to a browser, with a Node extension host) on a free loopback
// port with a throwaway profile, and stops it together with everything it spawned.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertHostInstalled, codeServerEntry, createRunDir } from './paths';

export interface CodeServerOptions {
  workspaceFolder: string;
  /** Merged over the test profile's defaults and written as both User and Machine settings. */
  userSettings?: Record<string, unknown>;
  /** Added to the server's environment; the extension host inherits it. */
  env?: Record<string, string>;
  extensionsDir?: string;
  /** false starts with workspace trust on, so the folder opens in restricted mode. Default true. */
  trustWorkspace?: boolean;
  /** Folder for the profile and temp files; a fresh one under `.vscode-test/runs` when absent. */
  runDir?: string;
  /**
   * URLs `vscode.env.openExternal` may open without VS Code's "open the external website?" dialog, e.g.
   * `https://127.0.0.2:*`. An extension under test needs this: with extensionTestsPath set, VS Code refuses
   * to show that dialog at all, and openExternal of any other site resolves false.
   */
  linkProtectionTrustedDomains?: string[];
  startTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  /** What the server printed so far, stdout and stderr interleaved. */
  output(): string;
  stop(): Promise<void>;
}

const liveProcessGroups = new Set<number>();
// A test process that dies mid-run must not leave servers, file watchers and extension hosts behind.
process.once('exit', () => {
  for (const pgid of liveProcessGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupIsAlive(pgid: number): boolean {
  return killGroup(pgid, 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

export function testProfileSettings(options: Pick<CodeServerOptions, 'userSettings' | 'trustWorkspace'>): Record<string, unknown> {
  const trust = options.trustWorkspace ?? true;
  return {
    'workbench.startupEditor': 'none',
    // VS Code's proxy agent otherwise builds the https CA list from the system store only, and a test CA
    // given through NODE_EXTRA_CA_CERTS would be rejected.
    'http.systemCertificates': false,
    'security.workspace.trust.enabled': !trust,
    // The trust dialog is modal and would block every test; an untrusted folder opens in restricted mode.
    'security.workspace.trust.startupPrompt': 'never',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.enableExperiments': false,
    // Workspaces made inside the checkout would otherwise raise a notification over the screenshots.
    'git.openRepositoryInParentFolders': 'never',
    ...options.userSettings,
  };
}

// VS Code puts IPC sockets named `vscode-ipc-<uuid>.sock` (53 characters) into TMPDIR, and a Unix socket
// path may not exceed 107 bytes; a deep checkout gets a short temp folder outside the cache instead.
const longestSocketName = 'vscode-ipc-00000000-0000-0000-0000-000000000000.sock'.length;
const maxSocketPath = 107;

function createServerTmpDir(runDir: string): { path: string; owned: boolean } {
  const inRun = join(runDir, 'tmp');
  if (inRun.length + 1 + longestSocketName <= maxSocketPath) {
    mkdirSync(inRun, { recursive: true });
    return { path: inRun, owned: false };
  }
  return { path: mkdtempSync(join(tmpdir(), 'aks-host-')), owned: true };
}

/** The server's environment: ours without VS Code's own variables (tests may run inside a VS Code terminal). */
function serverEnv(runDir: string, tmp: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
  }
  return { ...env, XDG_CONFIG_HOME: join(runDir, 'xdg-config'), XDG_DATA_HOME: join(runDir, 'xdg-data'), TMPDIR: tmp, ...extra };
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertHostInstalled();
  const runDir = options.runDir ?? createRunDir('code-server');
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = options.extensionsDir ?? join(runDir, 'extensions');
  const settings = JSON.stringify(testProfileSettings(options), null, 2);
  for (const scope of ['User', 'Machine']) {
    mkdirSync(join(userDataDir, scope), { recursive: true });
    writeFileSync(join(userDataDir, scope, 'settings.json'), settings);
  }
  mkdirSync(extensionsDir, { recursive: true });

  const port = await findFreePort();
  const configPath = join(runDir, 'code-server.yaml');
  writeFileSync(configPath, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const args = [
    codeServerEntry, '--config', configPath, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    ...(options.trustWorkspace ?? true ? ['--disable-workspace-trust'] : []),
    ...(options.linkProtectionTrustedDomains ?? []).flatMap((domain) => ['--link-protection-trusted-domains', domain]),
    options.workspaceFolder,
  ];
  // detached = setsid: the server leads a process group, so stop() reaches its watchers and extension hosts.
  const tmp = createServerTmpDir(runDir);
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: runDir, env: serverEnv(runDir, tmp.path, options.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('code-server did not start');
  liveProcessGroups.add(pgid);

  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));

  const stop = async (): Promise<void> => {
    if (!liveProcessGroups.delete(pgid)) return;
    killGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (groupIsAlive(pgid) && Date.now() < deadline) await sleep(100);
    if (groupIsAlive(pgid)) killGroup(pgid, 'SIGKILL');
    while (groupIsAlive(pgid)) await sleep(50);
    if (tmp.owned) rmSync(tmp.path, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while ((await httpStatus(`${url}healthz`)) !== 200) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not come up on port ${port}${exited ? ' (it exited)' : ''}:\n${output}`);
    }
    await sleep(100);
  }
  return { url, port, runDir, output: () => output, stop };
}
