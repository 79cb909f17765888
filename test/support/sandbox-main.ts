// What `npm start` runs: the sandbox (identity platform, API server, az-style workspace) plus code-server
// with this repository installed as an extension, so a plain browser tab on the printed URL is a VS Code
// where AKS Sign-In can be tried end to end. Everything it writes stays in one folder under .vscode-test/,
// which is wiped on start: the identity platform keeps its keys in memory, so nothing from an earlier
// run would still be valid anyway.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startCodeServer, type CodeServer } from '../host/harness/codeServer';
import { cacheRoot, repoRoot } from '../host/harness/paths';
import { demo } from './identity-platform';
import { startSandbox, sandboxContexts, type Sandbox } from './sandbox';

export const defaultSandboxDir = join(cacheRoot, 'sandbox');

/** Written beside the sandbox while it runs, so a second start and the tests can find the first. */
export interface SandboxState {
  pid: number;
  url: string;
  workspaceFolder: string;
  kubeconfigPath: string;
  deviceLoginUrl: string;
  apiServerUrl: string;
  /** kubectl the integrated terminal finds first on PATH; absent when that version is not installed. */
  kubectlPath?: string;
}

export interface SandboxSession {
  sandbox: Sandbox;
  codeServer: CodeServer;
  /** The workbench with the sandbox workspace open; the extension is installed, so no payload is needed. */
  url: string;
  state: SandboxState;
  stop(): Promise<void>;
}

const statePath = (dir: string) => join(dir, 'sandbox.json');

function readState(dir: string): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * VS Code's scanner picks up any `<publisher>.<name>-<version>` folder in the extensions directory and
 * registers it in extensions.json; a symlink to the checkout makes every rebuild of dist/ the installed one.
 */
function installCheckoutAsExtension(extensionsDir: string): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const link = join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  mkdirSync(extensionsDir, { recursive: true });
  symlinkSync(repoRoot, link, 'dir');
  return link;
}

export async function startSandboxSession(dir: string): Promise<SandboxSession> {
  const running = readState(dir);
  if (running && isRunning(running.pid)) {
    throw new Error(`A sandbox is already running from ${dir} (process ${running.pid}) at ${running.url}; stop it first.`);
  }
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing; build the extension first.');
  rmSync(dir, { recursive: true, force: true });

  const sandbox = await startSandbox({ dir, pathKubectl: '1.33' });
  let codeServer: CodeServer;
  try {
    const runDir = join(dir, 'code-server');
    const extensionsDir = join(runDir, 'extensions');
    installCheckoutAsExtension(extensionsDir);
    codeServer = await startCodeServer({
      workspaceFolder: sandbox.workspaceFolder,
      env: sandbox.hostEnv,
      userSettings: sandbox.userSettings,
      extensionsDir,
      trustWorkspace: true,
      runDir,
    });
  } catch (error) {
    await sandbox.close();
    throw error;
  }

  // Slashes stay readable: a query may hold them, and the URL is meant to be read and clicked.
  const url = `${codeServer.url}?folder=${sandbox.workspaceFolder.split('/').map(encodeURIComponent).join('/')}`;
  const kubectlPath = join(sandbox.binDir, 'kubectl');
  const state: SandboxState = {
    pid: process.pid,
    url,
    workspaceFolder: sandbox.workspaceFolder,
    kubeconfigPath: sandbox.kubeconfigPath,
    deviceLoginUrl: sandbox.identityPlatform.deviceLoginUrl,
    apiServerUrl: sandbox.apiServer.url,
    ...(existsSync(kubectlPath) ? { kubectlPath } : {}),
  };
  writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await codeServer.stop();
      await sandbox.close();
      rmSync(statePath(dir), { force: true });
    })());
  return { sandbox, codeServer, url, state, stop };
}

/** What a person reads after `npm start`: one URL, then the walk through a sign-in. */
export function instructions(session: SandboxSession): string {
  const { sandbox, state } = session;
  // The device-login page offers only the users of the tenant the kubeconfig names.
  const offered = sandbox.identityPlatform.users.filter((user) => user.homeTenant === demo.CONTOSO_TENANT);
  const northwind = sandbox.identityPlatform.users.find((user) => user.homeTenant === demo.NORTHWIND_TENANT);
  const width = Math.max(...offered.map((user) => user.username.length));
  const users = offered.map(
    (user) => `       ${user.username.padEnd(width)}  ${user.displayName}${user.blocked ? ' (conditional access refuses the token: shows the failure path)' : ''}`,
  );
  const fromRepo = (path: string) => relative(repoRoot, path) || '.';
  return [
    '',
    'AKS Sign-In sandbox is running. Open:',
    '',
    `    ${state.url}`,
    '',
    `  1. In VS Code press F1, run "AKS: Sign In…" and pick the context ${sandboxContexts.current}.`,
    `  2. A notification shows a code. Choose "Copy Code and Open" (or open ${state.deviceLoginUrl}),`,
    '     enter the code and press Next. The page is served with the sandbox\'s own test CA: accept the',
    `     browser's warning, or trust ${fromRepo(sandbox.ca.caPath)}.`,
    '  3. Pick a demo user and press Approve:',
    ...users,
    '  4. Watch the status bar count down, then in the integrated terminal run:',
    '       kubectl get namespaces',
    state.kubectlPath
      ? '     (the terminal\'s KUBECONFIG is the workspace\'s .kube/config and PATH starts with kubectl 1.33)'
      : '     (kubectl 1.33 was not found on this machine; use any kubectl 1.26 or later with KUBECONFIG set)',
    `  The context ${sandboxContexts.legacy} is the same cluster in the older auth-provider form.`,
    `  The context ${sandboxContexts.northwind} signs in ${northwind?.username ?? 'a user'} of Northwind, whose Conditional Access`,
    '  refuses device code (AADSTS53003): there only a sign-in in the browser gets a token. In this browser tab',
    '  set aksSignIn.signInMethod to "browser" (the browser runs on this machine, so the loopback reaches it).',
    '  AKS: Sign In to Azure… lists the sandbox\'s Azure: Contoso\'s and Fabrikam\'s subscriptions and AKS',
    '  clusters (every one served by the same test API server); Get Credentials adds one to the kubeconfig.',
    '',
    `Everything lives in ${fromRepo(sandbox.workspaceFolder.replace(/\/workspace$/, ''))}/. Press Ctrl+C to stop.`,
    '',
  ].join('\n');
}

/** `npm start`: runs until SIGINT or SIGTERM, then stops everything it started and exits 0. */
export async function main(): Promise<void> {
  const dir = process.env.AKS_SANDBOX_DIR ?? defaultSandboxDir;
  let session: SandboxSession | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  const shutDown = (signal: NodeJS.Signals) => {
    // A second Ctrl+C while stopping must not kill this process before code-server's group is gone.
    if (stopRequested) return;
    stopRequested = signal;
    if (!session) return; // still starting: stopped as soon as it is up
    process.stdout.write(`\n${signal}: stopping the sandbox…\n`);
    session.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutDown);
  process.on('SIGTERM', shutDown);

  try {
    session = await startSandboxSession(dir);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  if (stopRequested) {
    await session.stop();
    process.exit(0);
  }
  process.stdout.write(instructions(session));
  process.stdout.write(`(ready ${process.uptime().toFixed(1)} s after start)\n`);
}

if (require.main === module) void main();
