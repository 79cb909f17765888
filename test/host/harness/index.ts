// Runs the extension in a real VS Code (code-server + headless Chromium) without network access.
// scripts/setup-host.sh installs what this needs; see runExtensionTests.ts for the flow and control.ts for
// how in-host tests reach the browser.
export { startCodeServer, testProfileSettings, type CodeServer, type CodeServerOptions } from './codeServer';
export { launchBrowser, runCommand } from './browser';
export { runExtensionTests, workbenchUrl, type ExtensionTestOptions, type ExtensionTestResult } from './runExtensionTests';
export { startControlEndpoint, type ControlEndpoint, type ControlTarget } from './control';
export { harnessUrlVariable, type Step, type ControlRequests } from './protocol';
export { assertHostInstalled, cacheRoot, repoRoot } from './paths';
