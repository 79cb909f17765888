// Completes an /authorize request over HTTPS the way a browser does: GET the URL with the browser's
// cookies, pick the account and press Accept or Cancel on the page, then deliver the response to the app's
// redirect URI — follow a 302 (query), load the page without its fragment, or POST the auto-submitting
// form (form_post) — so a test exercises the same pages, session and listener a person's browser would.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { PageTrust } from './device-login-driver';

/** One browser's cookie jar for the platform; sharing it between calls is what gives single sign-on. */
export interface BrowserProfile {
  cookies: Map<string, string>;
}

export function createBrowserProfile(): BrowserProfile {
  return { cookies: new Map() };
}

export interface AuthorizeOptions {
  /** The account to pick when the page asks; default: the one the page pre-selects. */
  username?: string;
  decision?: 'accept' | 'cancel';
  browser?: BrowserProfile;
  /** false stops at what the platform sends back, without delivering it to the redirect URI. */
  deliver?: boolean;
}

export interface AuthorizeOutcome {
  /** `redirected`: the platform sent the browser back to the app; `error-page`: it showed an error and stopped there. */
  kind: 'redirected' | 'error-page';
  /** Whether the account page was shown; false when the session (or prompt=none) answered at once. */
  pageShown: boolean;
  redirectUri?: string;
  responseMode?: 'query' | 'fragment' | 'form_post';
  /** What the app receives: code, state, client_info, session_state — or error, error_description, error_uri. */
  params: Record<string, string>;
  /** The text of the error page, for `error-page`. */
  errorMessage?: string;
  /** What the redirect URI answered when the response was delivered to it; status 0 when nothing listened there. */
  delivered?: { status: number; body: string };
}

/** Like a browser, a redirect target that is not listening is a page that failed to load, not a crash. */
async function deliver(url: string, form?: Record<string, string>): Promise<{ status: number; body: string }> {
  try {
    const response = await send(url, form ? { method: 'POST', form } : { method: 'GET' });
    return { status: response.status, body: response.body };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error) };
  }
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, options: { method: 'GET' | 'POST'; form?: Record<string, string>; cookies?: Map<string, string>; trust?: PageTrust }): Promise<Response> {
  const target = new URL(url);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const cookie = options.cookies && options.cookies.size > 0 ? [...options.cookies].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
  const headers: Record<string, string | number> = {
    accept: 'text/html',
    ...(cookie ? { cookie } : {}),
    ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
  };
  const secure = target.protocol === 'https:';
  const trust = options.trust;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      if (secure && trust && trust.ca === undefined) {
        const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256;
        if (fingerprint !== trust.pinnedFingerprint256) {
          res.destroy();
          reject(new Error(`${target.origin} presented an unexpected certificate`));
          return;
        }
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    // Node's clients never follow redirects, so every hop is visible here, as in a browser's network log.
    const req = secure
      ? httpsRequest(target, { method: options.method, headers, agent: false, ca: trust?.ca, rejectUnauthorized: trust?.ca !== undefined }, onResponse)
      : httpRequest(target, { method: options.method, headers, agent: false }, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

const decodeEntities = (text: string): string => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeEntities(match[1] ?? '') : undefined;
}

function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = attribute(tag, 'name');
    if (name !== undefined) fields[name] = attribute(tag, 'value') ?? '';
  }
  return fields;
}

function pageError(html: string): string {
  const match = /data-error="true">([^<]*)</.exec(html);
  return match ? decodeEntities(match[1] ?? '') : 'the page did not say why';
}

function storeCookies(profile: BrowserProfile, response: Response): void {
  const setCookie = response.headers['set-cookie'];
  for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const [pair] = line.split(';');
    const separator = pair?.indexOf('=') ?? -1;
    if (pair && separator > 0) profile.cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
  }
}

export async function driveAuthorize(authorizeUrl: string, trust: PageTrust, options: AuthorizeOptions = {}): Promise<AuthorizeOutcome> {
  const browser = options.browser ?? createBrowserProfile();
  const platform = new URL(authorizeUrl).origin;
  let pageShown = false;
  let response = await send(authorizeUrl, { method: 'GET', cookies: browser.cookies, trust });
  storeCookies(browser, response);

  const signInForm = /<form method="post" action="([^"]*\/login)">/.exec(response.body);
  if (response.status === 200 && signInForm) {
    pageShown = true;
    const offered = [...response.body.matchAll(/<input type="radio" name="username" value="([^"]*)"( checked)?>/g)].map((match) => ({
      username: decodeEntities(match[1] ?? ''),
      checked: match[2] !== undefined,
    }));
    const username = options.username ?? offered.find((account) => account.checked)?.username;
    if (options.decision !== 'cancel' && !offered.some((account) => account.username.toLowerCase() === username?.toLowerCase())) {
      throw new Error(`the sign-in page does not offer ${username ?? 'any account'} (offers ${offered.map((account) => account.username).join(', ') || 'nobody'})`);
    }
    const action = new URL(decodeEntities(signInForm[1] ?? ''), platform).toString();
    response = await send(action, {
      method: 'POST',
      form: { ...hiddenFields(response.body), ...(username ? { username } : {}), decision: options.decision ?? 'accept' },
      cookies: browser.cookies,
      trust,
    });
    storeCookies(browser, response);
  }

  if (response.status === 302) {
    const location = String(response.headers.location ?? '');
    const target = new URL(location);
    const fragment = target.hash.slice(1);
    const responseMode = fragment ? 'fragment' : 'query';
    const params = Object.fromEntries(new URLSearchParams(fragment || target.search));
    target.hash = '';
    const outcome: AuthorizeOutcome = { kind: 'redirected', pageShown, redirectUri: `${target.origin}${target.pathname}`, responseMode, params };
    // A browser never sends the fragment; the app's page reads it from location.hash.
    if (options.deliver !== false) outcome.delivered = await deliver(target.toString());
    return outcome;
  }
  const formPost = /<form method="post" name="hiddenform" action="([^"]*)" data-form-post="true">/.exec(response.body);
  if (response.status === 200 && formPost) {
    const action = decodeEntities(formPost[1] ?? '');
    const params = hiddenFields(response.body);
    const outcome: AuthorizeOutcome = { kind: 'redirected', pageShown, redirectUri: action, responseMode: 'form_post', params };
    if (options.deliver !== false) outcome.delivered = await deliver(action, params);
    return outcome;
  }
  if (response.status >= 400 && /data-error="true"/.test(response.body)) {
    return { kind: 'error-page', pageShown, params: {}, errorMessage: pageError(response.body) };
  }
  throw new Error(`the authorize request answered ${response.status} with neither a redirect, a form post nor an error page`);
}
