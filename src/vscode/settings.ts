// Settings, read so that an untrusted workspace cannot choose the file that receives tokens, where
// sign-in goes, the kubectl we run or the credential form: in Restricted Mode those come from user/machine
// scope only, and a path there may not point into the untrusted folder (src/core/trust.ts).
import * as os from 'node:os';
import * as vscode from 'vscode';
import { expandPath, locateKubeconfigs } from '../core/kubeconfig';
import type { SessionSettings } from '../core/session/service';
import type { FormatSetting } from '../core/session/format';
import { signInMethodIds, type SignInMethodId } from '../core/auth/methods';
import type { ArmSignInSettings } from '../core/arm/azure-account';
import { pathInRestrictedMode, trustedValue } from '../core/trust';

/** Settings refused in Restricted Mode, each said once in the log. */
const refusals = new Set<string>();
let reportRefusal: (message: string) => void = () => undefined;

export function onSettingRefused(report: (message: string) => void): void {
  reportRefusal = report;
}

function refused(reason: string): undefined {
  if (!refusals.has(reason)) {
    refusals.add(reason);
    reportRefusal(reason);
  }
  return undefined;
}

function ownSetting<T>(section: string, key: string): T | undefined {
  return trustedValue(vscode.workspace.getConfiguration(section).inspect<T>(key), vscode.workspace.isTrusted);
}

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.isTrusted ? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath : undefined;
}

/** A path setting, or undefined when it is empty or must be ignored in Restricted Mode. */
function pathSetting(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const decision = pathInRestrictedMode(name, value, vscode.workspace.isTrusted);
  return decision.ok ? decision.path : refused(decision.reason);
}

/** The Kubernetes extension nests its settings inside one object setting. */
function kubernetesExtensionSetting(key: string): unknown {
  const inspected = vscode.workspace.getConfiguration().inspect<Record<string, unknown>>('vs-kubernetes');
  if (!vscode.workspace.isTrusted) return inspected?.globalValue?.[key];
  return vscode.workspace.getConfiguration().get<Record<string, unknown>>('vs-kubernetes')?.[key];
}

export function kubeconfigLocation(): { paths: string[]; source: string } {
  return locateKubeconfigs({
    setting: pathSetting('aksSignIn.kubeconfig', ownSetting<string>('aksSignIn', 'kubeconfig')),
    kubeconfigEnv: process.env.KUBECONFIG,
    vsKubernetesSetting: pathSetting('vs-kubernetes.kubeconfig', kubernetesExtensionSetting('vs-kubernetes.kubeconfig')),
    homeDir: os.homedir(),
    workspaceFolder: workspaceFolderPath(),
  });
}

/** Kubeconfigs the Kubernetes extension knows of: offered by "Select Kubeconfig". */
export function knownKubeconfigs(): string[] {
  const known = kubernetesExtensionSetting('vs-kubernetes.knownKubeconfigs');
  if (!Array.isArray(known)) return [];
  return known
    .map((path) => pathSetting('vs-kubernetes.knownKubeconfigs', path))
    .filter((path): path is string => path !== undefined)
    .map((path) => expandPath(path, { homeDir: os.homedir(), workspaceFolder: workspaceFolderPath() }));
}

const kubernetesPlatform: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'mac', win32: 'windows' };

/** The kubectl that kubectl commands here use: the Kubernetes extension's configured one, else the one on PATH.
 *  Read from user settings only in Restricted Mode, since the extension runs it. */
export function kubectlPath(): string {
  const platform = kubernetesPlatform[process.platform];
  const configured = (platform && kubernetesExtensionSetting(`vs-kubernetes.kubectl-path.${platform}`)) || kubernetesExtensionSetting('vs-kubernetes.kubectl-path');
  const path = pathSetting('vs-kubernetes.kubectl-path', configured);
  return path === undefined ? 'kubectl' : expandPath(path, { homeDir: os.homedir(), workspaceFolder: workspaceFolderPath() });
}

export function refreshBeforeMinutes(): number {
  return Math.min(55, Math.max(1, vscode.workspace.getConfiguration('aksSignIn').get<number>('refreshBeforeExpiryMinutes', 10)));
}

export function readSettings(): SessionSettings {
  // An untrusted folder could otherwise force the legacy form and have a refresh token written to disk.
  const format = ownSetting<string>('aksSignIn', 'credentialFormat') ?? 'auto';
  const authorityHost = (ownSetting<string>('aksSignIn', 'authorityHost') ?? '').replace(/\/+$/, '');
  return {
    kubeconfigPaths: kubeconfigLocation().paths,
    credentialFormat: (['auto', 'legacy', 'token'].includes(format) ? format : 'auto') as FormatSetting,
    refreshBeforeMinutes: refreshBeforeMinutes(),
    authorityHost: authorityHost.startsWith('https://') ? authorityHost : undefined,
  };
}

/** aksSignIn.signInMethod: a method, or `auto` (the entry's kubelogin mode, else browser where it can reach here, else device code). */
export function signInMethodSetting(): SignInMethodId | 'auto' {
  const value = vscode.workspace.getConfiguration('aksSignIn').get<string>('signInMethod', 'auto');
  return (signInMethodIds as readonly string[]).includes(value) ? (value as SignInMethodId) : 'auto';
}

/** Where and how Azure discovery signs in: the cloud, and the overrides for private clouds (and the sandbox). */
export function armSettings(): ArmSignInSettings {
  const environment = vscode.workspace.getConfiguration('aksSignIn').get<string>('azureEnvironment', 'AzurePublicCloud');
  const authorityHost = readSettings().authorityHost;
  const endpoint = (ownSetting<string>('aksSignIn', 'resourceManagerEndpoint') ?? '').replace(/\/+$/, '');
  return {
    environment,
    ...(authorityHost ? { authorityHost } : {}),
    ...(endpoint.startsWith('https://') ? { resourceManagerEndpoint: endpoint } : {}),
  };
}

export const affectsSettings = (event: vscode.ConfigurationChangeEvent): boolean =>
  event.affectsConfiguration('aksSignIn') || event.affectsConfiguration('vs-kubernetes');
