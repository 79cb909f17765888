// The caller side of the control endpoint (see control.ts), for tests running inside the extension host:
// they cannot reach the browser that renders the workbench, the harness outside can.
import { request } from 'node:http';
import { harnessUrlVariable, type ControlRequests, type Step } from './protocol';

export { workbenchPageId, type Step } from './protocol';

/** The steps that run a palette command by its title, as a person would: F1, the title, Enter. */
export function paletteSteps(title: string): Step[] {
  return [{ press: 'F1' }, { waitFor: '.quick-input-widget input' }, { type: title }, { waitFor: `.quick-input-widget >> text=${title}` }, { press: 'Enter' }];
}

function call<K extends keyof ControlRequests>(action: K, body: ControlRequests[K]['request']): Promise<ControlRequests[K]['response']> {
  const base = process.env[harnessUrlVariable];
  if (!base) return Promise.reject(new Error(`${harnessUrlVariable} is not set: these tests run inside the host test harness`));
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(action, base),
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text) as { error?: string };
            if (res.statusCode === 200) resolve(parsed as ControlRequests[K]['response']);
            else reject(new Error(`harness ${action}: ${parsed.error ?? res.statusCode}`));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

export const harness = {
  /** Saves a PNG of the workbench (or of `pageId`) and returns its path on this machine. */
  screenshot: async (name: string, pageId?: string): Promise<string> => (await call('screenshot', { name, pageId })).path,
  /** Opens another tab in the workbench's browser, e.g. for a sign-in page; returns its id. */
  openPage: async (url?: string): Promise<string> => (await call('openPage', { url })).pageId,
  /** Runs the steps in order on that tab; each `text` step contributes the text it read, in order. */
  steps: async (pageId: string, steps: Step[], stepTimeoutMs?: number): Promise<string[]> =>
    (await call('steps', { pageId, steps, stepTimeoutMs })).results.filter((result): result is string => result !== null),
  /**
   * Opens another VS Code window: a workbench tab on the same code-server with the extension under
   * development (and no test suite), on `folder` or the test's own folder. Close it with closePage.
   */
  openWindow: async (folder?: string): Promise<string> => (await call('openWindow', folder === undefined ? {} : { folder })).pageId,
  closePage: async (pageId: string): Promise<void> => {
    await call('closePage', { pageId });
  },
  /**
   * Waits for a page the browser opens by itself (openExternal, a link with target=_blank) whose URL starts
   * with `urlPrefix` ('' for any). Call it before the click that opens the page; `take` then resolves with
   * the page once it has navigated there.
   */
  expectPage: async (urlPrefix: string): Promise<{ take(timeoutMs?: number): Promise<{ pageId: string; url: string }> }> => {
    const { expectationId } = await call('expectPage', { urlPrefix });
    return { take: (timeoutMs?: number) => call('takePage', { expectationId, timeoutMs }) };
  },
};
