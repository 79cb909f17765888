// Where the host tests find code-server and keep their per-run state. Everything lives in the repo's
// `.vscode-test/` cache (gitignored), the folder scripts/setup-host.sh installs into.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot as findRepoRoot } from '../../support/repo-root';

/** The repository root, wherever the compiled harness lives inside it. */
export const repoRoot = findRepoRoot();

export const cacheRoot = join(repoRoot, '.vscode-test');

export const codeServerVersion = '4.100.3';

const codeServerDir = join(cacheRoot, 'code-server');

/** code-server's Node entry point; run it with the current Node, which is the one it was built for. */
export const codeServerEntry = join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

export const chromiumPath = '/usr/bin/chromium';

/**
 * Throws with the fix when code-server or Chromium is missing, so a host test fails with a message
 * that says what to run instead of a spawn error.
 */
export function assertHostInstalled(): void {
  const missing: string[] = [];
  if (!existsSync(join(codeServerDir, `.installed-${codeServerVersion}`)) || !existsSync(codeServerEntry)) {
    missing.push(`code-server ${codeServerVersion} in ${codeServerDir}`);
  }
  if (!existsSync(chromiumPath)) missing.push(`Chromium at ${chromiumPath}`);
  if (missing.length > 0) {
    throw new Error(`The VS Code host tests need ${missing.join(' and ')}; run "npm run setup" first.`);
  }
}

/** A fresh folder for one run's profile, logs and temp files. */
export function createRunDir(prefix: string): string {
  const runs = join(cacheRoot, 'runs');
  mkdirSync(runs, { recursive: true });
  return mkdtempSync(join(runs, `${prefix}-`));
}
