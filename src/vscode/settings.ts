// Settings, read so that an untrusted workspace cannot choose the file that receives tokens or where
// sign-in goes: in Restricted Mode those two come from user/machine scope only.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { expandPath, locateKubeconfigs } from '../core/kubeconfig';
import type { SessionSettings } from '../core/session/service';
import type { FormatSetting } from '../core/session/format';

function trustedValue(section: string, key: string): string {
  const inspected = vscode.workspace.getConfiguration(section).inspect<string>(key);
  if (!inspected) return '';
  if (vscode.workspace.isTrusted) {
    return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue ?? inspected.defaultValue ?? '';
  }
  return inspected.globalValue ?? inspected.defaultValue ?? '';
}

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The Kubernetes extension nests its settings inside one object setting. */
function kubernetesExtensionSetting(key: string): unknown {
  if (!vscode.workspace.isTrusted) {
    const inspected = vscode.workspace.getConfiguration().inspect<Record<string, unknown>>('vs-kubernetes');
    return inspected?.globalValue?.[key];
  }
  return vscode.workspace.getConfiguration().get<Record<string, unknown>>('vs-kubernetes')?.[key];
}

export function kubeconfigLocation(): { paths: string[]; source: string } {
  const vsKubernetes = kubernetesExtensionSetting('vs-kubernetes.kubeconfig');
  return locateKubeconfigs({
    setting: trustedValue('aksSignIn', 'kubeconfig') || undefined,
    kubeconfigEnv: process.env.KUBECONFIG,
    vsKubernetesSetting: typeof vsKubernetes === 'string' && vsKubernetes ? vsKubernetes : undefined,
    homeDir: os.homedir(),
    workspaceFolder: workspaceFolderPath(),
  });
}

/** Kubeconfigs the Kubernetes extension knows of: offered by "Select Kubeconfig". */
export function knownKubeconfigs(): string[] {
  const known = kubernetesExtensionSetting('vs-kubernetes.knownKubeconfigs');
  if (!Array.isArray(known)) return [];
  return known
    .filter((path): path is string => typeof path === 'string' && path.length > 0)
    .map((path) => expandPath(path, { homeDir: os.homedir(), workspaceFolder: workspaceFolderPath() }));
}

const kubernetesPlatform: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'mac', win32: 'windows' };

/** The kubectl that kubectl commands here use: the Kubernetes extension's configured one, else the one on PATH.
 *  Read from user settings only in Restricted Mode, since the extension runs it. */
export function kubectlPath(): string {
  const platform = kubernetesPlatform[process.platform];
  const configured = (platform && kubernetesExtensionSetting(`vs-kubernetes.kubectl-path.${platform}`)) || kubernetesExtensionSetting('vs-kubernetes.kubectl-path');
  if (typeof configured !== 'string' || configured === '') return 'kubectl';
  return expandPath(configured, { homeDir: os.homedir(), workspaceFolder: workspaceFolderPath() });
}

export function refreshBeforeMinutes(): number {
  return Math.min(55, Math.max(1, vscode.workspace.getConfiguration('aksSignIn').get<number>('refreshBeforeExpiryMinutes', 10)));
}

export function readSettings(): SessionSettings {
  const config = vscode.workspace.getConfiguration('aksSignIn');
  const format = config.get<string>('credentialFormat', 'auto');
  const authorityHost = trustedValue('aksSignIn', 'authorityHost').replace(/\/+$/, '');
  return {
    kubeconfigPaths: kubeconfigLocation().paths,
    credentialFormat: (['auto', 'legacy', 'token'].includes(format) ? format : 'auto') as FormatSetting,
    refreshBeforeMinutes: refreshBeforeMinutes(),
    authorityHost: authorityHost.startsWith('https://') ? authorityHost : undefined,
  };
}

export const affectsSettings = (event: vscode.ConfigurationChangeEvent): boolean =>
  event.affectsConfiguration('aksSignIn') || event.affectsConfiguration('vs-kubernetes');
