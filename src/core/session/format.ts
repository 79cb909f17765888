// Which credential format to write into a kubeconfig user entry, and why: the answer is shown to the
// user, because a wrong format is the one failure kubectl reports only as "auth plugin removed".
import { execFile } from 'node:child_process';
import type { CredentialFormat, UserCredential } from '../kubeconfig';

export type FormatSetting = 'auto' | CredentialFormat;

export interface FormatChoice {
  format: CredentialFormat;
  reason: string;
}

/** The first kubectl minor version that no longer reads the `azure` auth-provider. */
const azureProviderRemovedInMinor = 26;

export function chooseCredentialFormat(
  setting: FormatSetting,
  credential: Extract<UserCredential, { kind: 'aks' }>,
  kubectlMinor: number | undefined,
  pinned?: CredentialFormat,
): FormatChoice {
  if (pinned !== undefined) return { format: pinned, reason: `the ${pinned} form was chosen for this entry` };
  if (setting !== 'auto') {
    return { format: setting, reason: `aksSignIn.credentialFormat is "${setting}"` };
  }
  if (credential.identity.origin === 'exec-kubelogin') {
    return { format: 'token', reason: 'the entry used kubelogin, which a static token replaces for every kubectl' };
  }
  if (kubectlMinor !== undefined && kubectlMinor >= azureProviderRemovedInMinor) {
    return { format: 'token', reason: `kubectl 1.${kubectlMinor} no longer reads the azure auth-provider` };
  }
  if (kubectlMinor === undefined) {
    return { format: 'token', reason: 'no kubectl was found to ask, and a token works with every kubectl while the azure auth-provider does not since 1.26' };
  }
  if (credential.format === 'token') return { format: 'token', reason: `the entry already holds the token form, which kubectl 1.${kubectlMinor} reads too` };
  return { format: 'legacy', reason: `the entry uses the azure auth-provider and kubectl 1.${kubectlMinor} reads it` };
}

/** Whether kubectl of this minor version refuses the legacy form ("The azure auth plugin has been removed"). */
export function refusesLegacy(kubectlMinor: number | undefined): boolean {
  return kubectlMinor !== undefined && kubectlMinor >= azureProviderRemovedInMinor;
}

/** The client minor version of a kubectl (by default the one on PATH), or undefined when there is none or it does not answer. */
export function kubectlClientMinor(kubectl = 'kubectl'): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(kubectl, ['version', '--client', '-o', 'json'], { timeout: 10_000 }, (error, stdout) => {
      if (error) return resolve(undefined);
      try {
        const minor = Number.parseInt(String(JSON.parse(stdout).clientVersion?.minor ?? ''), 10);
        resolve(Number.isFinite(minor) ? minor : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
