// Debian's Chromium driven by playwright-core: Playwright's own browser downloads need the internet.
import { chromium, type Browser, type Page } from 'playwright-core';
import { spkiSha256 } from '../../support/tls';
import { assertHostInstalled, chromiumPath } from './paths';

const chromiumArgs = [
  '--no-sandbox', // tests run as root in containers, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface BrowserOptions {
  /** Server certificates (PEM) the browser accepts although no CA it knows signed them: the test CA's,
   *  pinned by public key, so every other certificate is still checked. */
  trustedCertificates?: string[];
}

export function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  assertHostInstalled();
  const pins = (options.trustedCertificates ?? []).map(spkiSha256);
  const args = pins.length > 0 ? [...chromiumArgs, `--ignore-certificate-errors-spki-list=${pins.join(',')}`] : chromiumArgs;
  return chromium.launch({ executablePath: chromiumPath, headless: true, args });
}

/** Runs a command of the workbench's palette by its title, as a person would (F1, type, Enter). */
export async function runCommand(workbench: Page, command: string): Promise<void> {
  await workbench.locator('.monaco-workbench').click({ position: { x: 600, y: 300 } }).catch(() => undefined);
  await workbench.keyboard.press('F1');
  const input = workbench.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${command}`);
  await workbench.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor();
  await workbench.keyboard.press('Enter');
}
