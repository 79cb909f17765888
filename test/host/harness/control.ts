// The control endpoint: a loopback HTTP server the harness runs beside code-server, through which tests
// inside the extension host ask for what only the browser side can do. Protocol (all POST, JSON in and
// out, under a URL with a random path segment that the extension host gets in AKS_SIGNIN_TEST_HARNESS_URL):
//
//   screenshot { name, pageId? }           -> { path }    PNG of the workbench (or that page) in screenshotsDir
//   openPage   { url? }                    -> { pageId }  a second tab in the workbench's browser context
//   steps      { pageId, steps: Step[], stepTimeoutMs? = 15000 }
//                                          -> { results } runs the steps in order; `text` steps yield strings
//   closePage  { pageId }                  -> {}
//   expectPage { urlPrefix }               -> { expectationId }
//                                             from now on, the first page the browser opens by itself (a
//                                             link with target=_blank, window.open, VS Code's openExternal)
//                                             whose URL starts with urlPrefix ('' = any) is kept for it.
//                                             Ask before the click that opens it, so it cannot be missed.
//   takePage   { expectationId, timeoutMs? = 15000 }
//                                          -> { pageId, url } that page, once it has navigated there; the
//                                             pageId then works with steps, screenshot and closePage. On
//                                             timeout the error lists the URLs of the pages that did open.
//
//   Step = { goto: url } | { fill: label, value } | { click: name, role? = 'button', within?: cssSelector }
//        | { clickOn: cssSelector } | { text: cssSelector } | { waitForText: text } | { waitFor: cssSelector, state? = 'visible' }
//        | { press: key } | { type: text }          (keyboard, e.g. F1 then "AKS: Sign In" then Enter)
//   pageId "workbench" addresses the workbench itself.
//
// Failures answer 500 with { error }. Values given to `fill` are never logged: they may be codes or
// secrets. protocol.ts holds the types; client.ts is the typed caller for use inside the extension host.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { workbenchPageId, type ControlRequests, type Step } from './protocol';

export interface ControlTarget {
  /** The workbench page; absent until the browser is up. */
  workbench(): Page | undefined;
  context(): BrowserContext | undefined;
  screenshotsDir: string;
  log(line: string): void;
  /** The workbench URL of another window with the extension under development and no tests, on `folder`. */
  windowUrl?(folder?: string): string;
}

export interface ControlEndpoint {
  url: string;
  close(): Promise<void>;
}

const safeName = /^[\w.-]{1,100}$/;
const stepTimeoutMs = 15_000;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const parsed: unknown = body ? JSON.parse(body) : {};
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new Error(`"${key}" must be a non-empty string`);
  return value;
}

async function runStep(page: Page, step: Step): Promise<string | null> {
  if ('goto' in step) {
    await page.goto(step.goto);
    return null;
  }
  if ('fill' in step) {
    await page.getByLabel(step.fill, { exact: true }).fill(step.value);
    return null;
  }
  if ('click' in step) {
    const scope = step.within === undefined ? page : page.locator(step.within).first();
    await scope.getByRole(step.role ?? 'button', { name: step.click, exact: true }).click();
    return null;
  }
  if ('clickOn' in step) {
    await page.locator(step.clickOn).first().click();
    return null;
  }
  if ('text' in step) {
    return page.locator(step.text).first().innerText();
  }
  if ('waitForText' in step) {
    await page.getByText(step.waitForText).first().waitFor();
    return null;
  }
  if ('waitFor' in step) {
    await page.locator(step.waitFor).first().waitFor({ state: step.state ?? 'visible' });
    return null;
  }
  if ('press' in step) {
    await page.keyboard.press(step.press);
    return null;
  }
  if ('type' in step) {
    await page.keyboard.type(step.type, { delay: 20 });
    return null;
  }
  throw new Error(`unknown step ${JSON.stringify(Object.keys(step))}`);
}

function describeStep(step: Step): string {
  if ('fill' in step) return `fill "${step.fill}"`;
  if ('type' in step) return 'type';
  return JSON.stringify(step);
}

interface PageExpectation {
  urlPrefix: string;
  /** How many pages had opened when it was made: the error on timeout lists only the later ones. */
  openedBefore: number;
  claimed?: { pageId: string; url: string };
  notify(): void;
}

export async function startControlEndpoint(target: ControlTarget): Promise<ControlEndpoint> {
  const pages = new Map<string, Page>();
  let nextPageId = 1;
  const expectations = new Map<string, PageExpectation>();
  let nextExpectationId = 1;
  /** URLs of pages the browser opened by itself, for the message when an expected one never came. */
  const opened: string[] = [];
  let watchedContext: BrowserContext | undefined;

  const isTracked = (page: Page) => [...pages.values()].includes(page);

  /** Gives a page opened by the browser to the oldest waiting expectation its URL fits, if any. */
  const offer = (page: Page): boolean => {
    const url = page.url();
    // window.open starts every tab at about:blank before it navigates.
    if (url === 'about:blank' || url === '' || isTracked(page)) return false;
    const expectation = [...expectations.values()].find((candidate) => !candidate.claimed && url.startsWith(candidate.urlPrefix));
    if (!expectation) return false;
    const pageId = `page-${nextPageId++}`;
    pages.set(pageId, page);
    expectation.claimed = { pageId, url };
    expectation.notify();
    return true;
  };

  const watch = (context: BrowserContext) => {
    if (watchedContext === context) return;
    watchedContext = context;
    context.on('page', (page) => {
      if (isTracked(page)) return;
      const onNavigated = (frame: Frame) => {
        if (frame !== page.mainFrame()) return;
        if (page.url() !== 'about:blank') opened.push(page.url());
        if (offer(page)) page.off('framenavigated', onNavigated);
      };
      page.on('framenavigated', onNavigated);
      if (page.url() !== 'about:blank' && page.url() !== '') opened.push(page.url());
      if (offer(page)) page.off('framenavigated', onNavigated);
    });
  };

  const pageFor = (pageId: string | undefined): Page => {
    const page = pageId === undefined || pageId === workbenchPageId ? target.workbench() : pages.get(pageId);
    if (!page) throw new Error(pageId === undefined ? 'the workbench is not open yet' : `no page "${pageId}"`);
    return page;
  };

  const handlers: { [K in keyof ControlRequests]: (body: Record<string, unknown>) => Promise<ControlRequests[K]['response']> } = {
    async screenshot(body) {
      const name = requireString(body, 'name');
      if (!safeName.test(name)) throw new Error('"name" may hold only letters, digits, "_", "-" and "."');
      const page = pageFor(body.pageId === undefined ? undefined : requireString(body, 'pageId'));
      mkdirSync(target.screenshotsDir, { recursive: true });
      const path = join(target.screenshotsDir, name.endsWith('.png') ? name : `${name}.png`);
      await page.screenshot({ path });
      return { path };
    },
    async openPage(body) {
      const context = target.context();
      if (!context) throw new Error('the browser is not open yet');
      const page = await context.newPage();
      const pageId = `page-${nextPageId++}`;
      pages.set(pageId, page);
      if (body.url !== undefined) await page.goto(requireString(body, 'url'));
      return { pageId };
    },
    async steps(body) {
      const page = pageFor(requireString(body, 'pageId'));
      if (!Array.isArray(body.steps)) throw new Error('"steps" must be an array');
      page.setDefaultTimeout(typeof body.stepTimeoutMs === 'number' ? body.stepTimeoutMs : stepTimeoutMs);
      const results: (string | null)[] = [];
      try {
        for (const step of body.steps as Step[]) {
          try {
            results.push(await runStep(page, step));
          } catch (error) {
            throw new Error(`step ${results.length + 1} (${describeStep(step)}) failed: ${(error as Error).message.split('\n')[0]}`);
          }
        }
      } finally {
        page.setDefaultTimeout(stepTimeoutMs);
      }
      return { results };
    },
    async openWindow(body) {
      const context = target.context();
      if (!context || !target.windowUrl) throw new Error('no second window can be opened here');
      const page = await context.newPage();
      const pageId = `page-${nextPageId++}`;
      pages.set(pageId, page);
      await page.goto(target.windowUrl(body.folder === undefined ? undefined : requireString(body, 'folder')));
      return { pageId };
    },
    async closePage(body) {
      const pageId = requireString(body, 'pageId');
      await pageFor(pageId).close();
      pages.delete(pageId);
      return {};
    },
    async expectPage(body) {
      const context = target.context();
      if (!context) throw new Error('the browser is not open yet');
      const urlPrefix = body.urlPrefix;
      if (typeof urlPrefix !== 'string') throw new Error('"urlPrefix" must be a string');
      watch(context);
      const expectationId = `expect-${nextExpectationId++}`;
      expectations.set(expectationId, { urlPrefix, openedBefore: opened.length, notify: () => undefined });
      return { expectationId };
    },
    async takePage(body) {
      const expectationId = requireString(body, 'expectationId');
      const expectation = expectations.get(expectationId);
      if (!expectation) throw new Error(`no expectation "${expectationId}" (ask expectPage first; each is taken once)`);
      const timeoutMs = typeof body.timeoutMs === 'number' ? body.timeoutMs : stepTimeoutMs;
      try {
        if (!expectation.claimed) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              const seen = opened.slice(expectation.openedBefore);
              reject(
                new Error(
                  `no page starting with "${expectation.urlPrefix}" opened within ${timeoutMs} ms; the browser opened ${seen.length > 0 ? seen.join(', ') : 'no page'}`,
                ),
              );
            }, timeoutMs);
            expectation.notify = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        return expectation.claimed!;
      } finally {
        expectations.delete(expectationId);
      }
    },
  };

  const secretPath = `/${randomBytes(12).toString('hex')}/`;
  const server: Server = createServer((req, res) => {
    const action = req.url?.startsWith(secretPath) ? req.url.slice(secretPath.length) : '';
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || !Object.hasOwn(handlers, action)) {
      reply(404, { error: `unknown action "${action}"` });
      return;
    }
    const handle: (body: Record<string, unknown>) => Promise<unknown> = handlers[action as keyof ControlRequests];
    readJson(req)
      .then((body) => {
        target.log(`[harness] ${action}`);
        return handle(body);
      })
      .then((result) => reply(200, result), (error: Error) => reply(500, { error: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${secretPath}`,
    async close() {
      await Promise.allSettled([...pages.values()].map((page) => page.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
