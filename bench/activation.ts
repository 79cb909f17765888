// Activation in a real VS Code: the time VS Code's extension host itself measured for activating this
// extension at startup with nothing signed in, beside the built-in extensions activated in the same run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, repoRoot, runExtensionTests } from '../test/host/harness';
import { activationResultVariable } from './activation-host/result';

const extensionId = 'aks-signin.aks-signin';

export interface ActivationFigures {
  activationMs: number;
  /** Other extensions activated in the same host, by name, in ms. */
  peers: Record<string, number>;
}

/** The Running Extensions editor lists, per extension: its name, its version, where it runs, then
 *  "Startup Activation: 12ms" or "Activation: 12ms" (VS Code's code-loading plus activate-call time). */
export function parseRunningExtensions(text: string): Record<string, number> {
  const times: Record<string, number> = {};
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  let name: string | undefined;
  lines.forEach((line, index) => {
    if (/^\d+\.\d+\.\d+(?:-[\w.]+)?$/.test(line) && index > 0) name = lines[index - 1];
    const time = /^(?:Startup )?Activation:\s*(\d+)\s*ms$/.exec(line);
    if (time && name !== undefined && !(name in times)) times[name] = Number(time[1]);
  });
  return times;
}

export async function measureActivation(): Promise<ActivationFigures> {
  const workspaceFolder = mkdtempSync(join(tmpdir(), 'aks-activation-'));
  writeFileSync(join(workspaceFolder, 'README.md'), '# nothing signed in here\n');
  const resultFile = join(workspaceFolder, '..', `activation-${process.pid}.json`);
  try {
    const result = await runExtensionTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'activation-host', 'index'),
      workspaceFolder,
      env: { [activationResultVariable]: resultFile, KUBECONFIG: join(workspaceFolder, 'no-kubeconfig') },
      screenshotsDir: join(cacheRoot, 'screenshots', 'activation'),
      timeoutMs: 180_000,
      onLog: () => undefined,
    });
    if (result.exitCode !== 0) throw new Error(`the activation probe failed:\n${result.logs}`);
    const { editorText } = JSON.parse(readFileSync(resultFile, 'utf8')) as { editorText: string };
    const times = parseRunningExtensions(editorText);
    // An extension under development is listed by its id.
    const ours = times[extensionId];
    if (ours === undefined) throw new Error(`no activation time for ${extensionId} in:\n${editorText}`);
    const peers = Object.fromEntries(Object.entries(times).filter(([name]) => name !== extensionId));
    return { activationMs: ours, peers };
  } finally {
    rmSync(workspaceFolder, { recursive: true, force: true });
    rmSync(resultFile, { force: true });
  }
}
