// Debian's Chromium driven by playwright-core: Playwright's own browser downloads need the internet.
import { chromium, type Browser } from 'playwright-core';
import { assertHostInstalled, chromiumPath } from './paths';

const chromiumArgs = [
  '--no-sandbox', // tests run as root in containers, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchBrowser(): Promise<Browser> {
  assertHostInstalled();
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}
