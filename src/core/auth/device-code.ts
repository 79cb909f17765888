// The device-code method: a code shown here, entered on any device. It works wherever VS Code runs (remote,
// web, containers), and it is the flow security teams switch off first (Conditional Access, AADSTS53003).
import type { AuthEngine } from './engine';
import type { SignInMethod } from './methods';

export function deviceCodeMethod(engine: () => AuthEngine): SignInMethod {
  return {
    id: 'deviceCode',
    label: 'Device code',
    detail: 'Enter a code on a sign-in page on any device. Works everywhere, unless your organisation blocks device-code sign-in.',
    store: 'msal',
    acquire: (target, ui, signal) => engine().signIn(target, { show: (info) => ui.showDeviceCode(info) }, signal),
    acquireSilent: (target, homeAccountId, options) => engine().acquireSilent(target, homeAccountId, options),
    signOut: (target, homeAccountId) => engine().signOut(target, homeAccountId),
  };
}
