// The control endpoint's request and response shapes, shared by the harness (control.ts) and the tests
// inside the extension host (client.ts). Kept free of runtime imports: the extension host loads it.

export const harnessUrlVariable = 'AKS_SIGNIN_TEST_HARNESS_URL';

export type Step =
  | { goto: string }
  | { fill: string; value: string }
  | { click: string; role?: AriaRole; within?: string }
  /** Clicks the first element the CSS (or Playwright) selector finds, e.g. a tree row by its label. */
  | { clickOn: string }
  | { text: string }
  | { waitForText: string }
  | { waitFor: string; state?: 'visible' | 'hidden' }
  | { press: string }
  | { type: string };

/** The pageId that names the workbench itself, for steps that drive VS Code's own UI. */
export const workbenchPageId = 'workbench';

export type AriaRole = 'button' | 'link' | 'checkbox' | 'radio' | 'tab' | 'menuitem' | 'option' | 'textbox' | 'treeitem';

export interface ControlRequests {
  screenshot: { request: { name: string; pageId?: string }; response: { path: string } };
  openPage: { request: { url?: string }; response: { pageId: string } };
  steps: { request: { pageId: string; steps: Step[]; stepTimeoutMs?: number }; response: { results: (string | null)[] } };
  closePage: { request: { pageId: string }; response: Record<string, never> };
  expectPage: { request: { urlPrefix: string }; response: { expectationId: string } };
  takePage: { request: { expectationId: string; timeoutMs?: number }; response: { pageId: string; url: string } };
  openWindow: { request: { folder?: string }; response: { pageId: string } };
}
