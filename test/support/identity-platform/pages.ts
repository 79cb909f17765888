// The sign-in pages (device login, and the authorize page of the authorization-code flow): plain, accessible
// HTML forms (labels, fieldset, named buttons) that a person in a real browser, a headless browser driven
// by role and label, and the in-process drivers can all complete.
import type { DemoUser } from './protocol';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; }
fieldset { border: 1px solid #ccc; padding: 0.5rem 1rem; margin: 1rem 0; }
label { display: block; margin: 0.5rem 0; }
button { margin-right: 0.5rem; padding: 0.4rem 1.2rem; }
.error { color: #a00; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

export function enterCodePage(error?: string, code = ''): string {
  return page(
    'Enter code',
    `<p>Enter the code displayed on your app or device.</p>
${error ? `<p class="error" role="alert" data-error="true">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/devicelogin">
<label for="otc">Code</label>
<input id="otc" name="otc" type="text" autocomplete="off" autocapitalize="characters" required value="${escapeHtml(code)}">
<button type="submit">Next</button>
</form>`,
  );
}

export function pickAccountPage(options: { userCode: string; appName: string; clientId: string; users: DemoUser[]; error?: string }): string {
  const accounts = options.users
    .map(
      (user, index) =>
        `<label><input type="radio" name="username" value="${escapeHtml(user.username)}"${index === 0 ? ' checked' : ''}> ${escapeHtml(user.displayName)} (${escapeHtml(user.username)})</label>`,
    )
    .join('\n');
  return page(
    `Sign in to ${options.appName}`,
    `<p>You are signing in to <strong data-app-name="true">${escapeHtml(options.appName)}</strong> (application ID ${escapeHtml(options.clientId)}) on another device.
Only continue if you started this sign-in yourself.</p>
${options.error ? `<p class="error" role="alert" data-error="true">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="/devicelogin/decide">
<input type="hidden" name="otc" value="${escapeHtml(options.userCode)}">
<fieldset>
<legend>Pick an account</legend>
${accounts}
</fieldset>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="decline">Decline</button>
</form>`,
  );
}

export function decidedPage(appName: string, decision: 'approve' | 'decline', user: DemoUser): string {
  return decision === 'approve'
    ? page(
        'You are signed in',
        `<p data-outcome="approved">${escapeHtml(user.displayName)} signed in to ${escapeHtml(appName)} on your device. You may now close this window.</p>`,
      )
    : page('Sign-in declined', `<p data-outcome="declined">You declined to sign in to ${escapeHtml(appName)}. You may now close this window.</p>`);
}

export interface AuthorizePageOptions {
  /** Names the pending request; the form posts it back instead of the request's parameters. */
  context: string;
  action: string;
  appName: string;
  clientId: string;
  /** The resource the token is for, as the consent line names it. */
  resource: string;
  /** Where the browser goes after a choice: shown so a person can tell a loopback app from another site. */
  redirectOrigin: string;
  users: DemoUser[];
  /** The account checked at first: the login_hint or the browser's session, else the first one. */
  selected?: string;
  error?: string;
}

export function authorizePage(options: AuthorizePageOptions): string {
  const selected = options.users.some((user) => user.username.toLowerCase() === options.selected?.toLowerCase())
    ? options.selected!.toLowerCase()
    : options.users[0]?.username.toLowerCase();
  const accounts = options.users
    .map(
      (user) =>
        `<label><input type="radio" name="username" value="${escapeHtml(user.username)}"${user.username.toLowerCase() === selected ? ' checked' : ''}> ${escapeHtml(user.displayName)} (${escapeHtml(user.username)})</label>`,
    )
    .join('\n');
  return page(
    `Sign in to ${options.appName}`,
    `<p><strong data-app-name="true">${escapeHtml(options.appName)}</strong> (application ID ${escapeHtml(options.clientId)}) asks to sign you in and to access
<span data-resource="true">${escapeHtml(options.resource)}</span> on your behalf. After you choose, this page sends you back to
<span data-redirect-origin="true">${escapeHtml(options.redirectOrigin)}</span>.</p>
${options.error ? `<p class="error" role="alert" data-error="true">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="ctx" value="${escapeHtml(options.context)}">
<fieldset>
<legend>Pick an account</legend>
${accounts || '<p>No account of this organisation can sign in here.</p>'}
</fieldset>
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>`,
  );
}

/** Entra's page for errors it cannot send back to the app: no redirect happens, the person reads this. */
export function signInErrorPage(message: string): string {
  return page(
    "Sorry, but we're having trouble signing you in.",
    `<p class="error" role="alert" data-error="true">${escapeHtml(message)}</p>`,
  );
}

/**
 * `response_mode=form_post`: the response travels as a form the page submits by itself, the way Entra's
 * "Working..." page does, with a button for browsers that run no script.
 */
export function formPostPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Working...</title></head>
<body>
<form method="post" name="hiddenform" action="${escapeHtml(action)}" data-form-post="true">
${inputs}
<noscript><p>Script is disabled. Select Submit to continue.</p><button type="submit">Submit</button></noscript>
</form>
<script>document.forms[0].submit();</script>
</body>
</html>
`;
}
