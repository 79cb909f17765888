// The in-host suite: VS Code calls `run()` in the extension host (the @vscode/test-electron convention),
// so the same module runs under this project's code-server harness or under test-electron's desktop
// VS Code. It loads every `*.host.js` beside it; AKS_SIGNIN_HOST_GREP narrows the run to matching titles.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha = require('mocha');

export function run(): Promise<void> {
  return runHostFiles(__dirname);
}

/** Runs every `*.host.js` in `folder` with mocha; other suites' index modules call this for their own folder. */
export function runHostFiles(folder: string, timeoutMs = 60_000): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: timeoutMs, grep: process.env.AKS_SIGNIN_HOST_GREP });
  const files = readdirSync(folder).filter((name) => name.endsWith('.host.js')).sort();
  if (files.length === 0) return Promise.reject(new Error(`no *.host.js files in ${folder}`));
  for (const name of files) mocha.addFile(join(folder, name));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} host test(s) failed`)) : resolve()));
  });
}
