// Runs an extension's in-host test suite in a real VS Code, the way @vscode/test-electron does on the
// desktop: VS Code loads the extension under development and calls `run()` of the extensionTestsPath
// module in its extension host; the exit code comes back through `codeAutomationExit`. Here the VS Code
// is code-server and the window is a headless Chromium tab, so it works without a desktop build.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { startControlEndpoint, type ControlEndpoint } from './control';
import { createRunDir } from './paths';
import { harnessUrlVariable } from './protocol';

export interface ExtensionTestOptions {
  /** Folder with the extension's package.json. */
  extensionDevelopmentPath: string;
  /** The compiled suite module exporting `run(): Promise<void>`, with or without `.js`. */
  extensionTestsPath: string;
  workspaceFolder: string;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  userSettings?: Record<string, unknown>;
  trustWorkspace?: boolean;
  /** Where `screenshot` requests (and a screenshot on timeout) go; defaults into the run folder. */
  screenshotsDir?: string;
  timeoutMs: number;
  /** Server certificates the browser accepts (see launchBrowser), e.g. the sandbox's. */
  trustedCertificates?: string[];
  /** Sites openExternal may open in a new tab (see CodeServerOptions); others are refused in a test run. */
  linkProtectionTrustedDomains?: string[];
  /** Receives every log line as it arrives; defaults to stdout. */
  onLog?: (line: string) => void;
}

export interface ExtensionTestResult {
  exitCode: number;
  /** What the workbench logged through codeAutomationLog, including the suite's reporter output. */
  logs: string;
  /** Folder with the profile and temp files; removed after a passing run unless screenshots went there. */
  runDir: string;
}

// The workbench forwards console calls as they were made, printf-style format string first.
function formatLogArgs(args: unknown): string {
  return format(...(Array.isArray(args) ? args : [args]));
}

/** The workbench with the extension under development; `withTests: false` is another window that runs no suite. */
export function workbenchUrl(server: Pick<CodeServer, 'url' | 'port'>, options: ExtensionTestOptions, { withTests = true } = {}): string {
  const remote = (path: string) => `vscode-remote://127.0.0.1:${server.port}${path}`;
  const payload = [
    ['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)],
    ...(withTests ? [['extensionTestsPath', remote(options.extensionTestsPath.replace(/\.js$/, ''))]] : []),
  ];
  const query = new URLSearchParams({ folder: options.workspaceFolder, payload: JSON.stringify(payload) });
  return `${server.url}?${query}`;
}

export async function runExtensionTests(options: ExtensionTestOptions): Promise<ExtensionTestResult> {
  const runDir = createRunDir('extension-tests');
  const screenshotsDir = options.screenshotsDir ?? join(runDir, 'screenshots');
  const logLines: string[] = [];
  const log = (line: string) => {
    logLines.push(line);
    (options.onLog ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  };

  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let workbench: Page | undefined;
  let server: CodeServer | undefined;
  let control: ControlEndpoint | undefined;
  let timer: NodeJS.Timeout | undefined;
  let passed = false;
  const started = Date.now();
  const phase = (what: string) => log(`[harness] ${what} after ${Date.now() - started} ms`);
  try {
    control = await startControlEndpoint({
      workbench: () => workbench,
      context: () => context,
      screenshotsDir,
      log,
      windowUrl: (folder) => {
        if (!server) throw new Error('code-server is not up yet');
        return workbenchUrl(server, { ...options, workspaceFolder: folder ?? options.workspaceFolder }, { withTests: false });
      },
    });
    server = await startCodeServer({
      workspaceFolder: options.workspaceFolder,
      userSettings: options.userSettings,
      trustWorkspace: options.trustWorkspace,
      linkProtectionTrustedDomains: options.linkProtectionTrustedDomains,
      env: { ...options.env, [harnessUrlVariable]: control.url },
      runDir,
    });
    phase(`code-server up on port ${server.port}`);
    browser = await launchBrowser({ trustedCertificates: options.trustedCertificates });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    let reportExit: (code: number) => void = () => undefined;
    const exit = new Promise<number>((resolve) => (reportExit = resolve));
    // Both must exist before the workbench loads: it looks for them once, at startup.
    await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const text = formatLogArgs(args);
      log(type === 'error' || type === 'warn' ? `[${type}] ${text}` : text);
    });
    page.on('pageerror', (error) => logLines.push(`[page error] ${error.message}`));
    workbench = page;
    await page.goto(workbenchUrl(server, options));
    phase('workbench page loaded');

    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the extension tests did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    let exitCode: number;
    try {
      exitCode = await Promise.race([exit, timedOut]);
    } catch (error) {
      await page.screenshot({ path: join(screenshotsDir, 'timeout.png') }).catch(() => undefined);
      throw new Error(`${(error as Error).message}; run folder ${runDir}\n--- log ---\n${logLines.join('\n')}\n--- code-server ---\n${server.output()}`);
    }
    phase(`extension tests exited with ${exitCode}`);
    passed = exitCode === 0;
    return { exitCode, logs: logLines.join('\n'), runDir };
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => undefined);
    await control?.close().catch(() => undefined);
    await server?.stop();
    if (passed && options.screenshotsDir !== undefined) rmSync(runDir, { recursive: true, force: true });
  }
}
