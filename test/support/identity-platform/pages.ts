// The device-login pages: plain, accessible HTML forms (labels, fieldset, named buttons) that a person in a
// real browser, a headless browser driven by role and label, and the in-process driver can all complete.
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
