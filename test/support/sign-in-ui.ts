// The person's side of a sign-in in tests that drive the session without VS Code.
import type { SignInUi } from '../../src/core/auth/methods';
import type { DeviceCodeInfo } from '../../src/core/ports';

/** Shows device codes to `show`; a browser sign-in it is asked for is refused, as a person who closes it would. */
export function deviceCodeUi(show: (info: DeviceCodeInfo) => void): SignInUi {
  return { showDeviceCode: show, openBrowser: async () => false };
}
