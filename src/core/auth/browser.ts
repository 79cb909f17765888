// The browser method: the Microsoft sign-in page in the person's browser, returning to a loopback
// listener here (authorization code with PKCE). Conditional Access that blocks device code or asks for a
// compliant device accepts it, and nothing is typed. It needs a browser that can reach this machine's
// loopback address: locally, or through a port VS Code forwards.
import type { AuthEngine } from './engine';
import type { SignInMethod } from './methods';

export function browserMethod(engine: () => AuthEngine): SignInMethod {
  return {
    id: 'browser',
    label: 'Browser',
    detail: 'Sign in on the Microsoft page in your browser. Use it when your organisation blocks device codes or requires a compliant device.',
    // The same MSAL cache per client id as the device code: a token got either way refreshes the same way.
    store: 'msal',
    acquire: (target, ui, signal) => engine().signInWithBrowser(target, ui, signal),
    acquireSilent: (target, homeAccountId, options) => engine().acquireSilent(target, homeAccountId, options),
    signOut: (target, homeAccountId) => engine().signOut(target, homeAccountId),
  };
}
