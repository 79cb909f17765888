import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface LocateInput {
  /** aksSignIn.kubeconfig */
  setting?: string;
  /** The KUBECONFIG environment variable, a path list. */
  kubeconfigEnv?: string;
  /** vs-kubernetes.kubeconfig of the Kubernetes extension. */
  vsKubernetesSetting?: string;
  homeDir: string;
  workspaceFolder?: string;
}

export interface LocatedKubeconfigs {
  paths: string[];
  source: 'setting' | 'KUBECONFIG' | 'vs-kubernetes' | 'default';
}

/** Expands `~`, `${userHome}` and `${workspaceFolder}` the way VS Code settings users expect. */
export function expandPath(path: string, ctx: { homeDir: string; workspaceFolder?: string }): string {
  let expanded = path.trim().replace(/\$\{userHome\}/g, ctx.homeDir);
  if (ctx.workspaceFolder !== undefined) expanded = expanded.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  if (expanded === '~') expanded = ctx.homeDir;
  else if (expanded.startsWith('~/') || expanded.startsWith('~\\')) expanded = join(ctx.homeDir, expanded.slice(2));
  // A relative setting means "in this workspace", which is how the Kubernetes extension reads it too.
  if (!isAbsolute(expanded) && ctx.workspaceFolder !== undefined && !expanded.includes('${')) expanded = resolve(ctx.workspaceFolder, expanded);
  return expanded;
}

/**
 * The kubeconfig files in effect, in kubectl's precedence: our setting, then KUBECONFIG (all of its
 * files, merged first-wins), then the Kubernetes extension's setting, then ~/.kube/config.
 */
export function locateKubeconfigs(input: LocateInput): LocatedKubeconfigs {
  const ctx = { homeDir: input.homeDir, workspaceFolder: input.workspaceFolder };
  if (input.setting !== undefined && input.setting.trim() !== '') return { paths: [expandPath(input.setting, ctx)], source: 'setting' };
  if (input.kubeconfigEnv !== undefined) {
    // kubectl drops empty entries and later duplicates of the same path.
    const paths = [...new Set(input.kubeconfigEnv.split(delimiter).filter((entry) => entry.trim() !== ''))];
    if (paths.length > 0) return { paths, source: 'KUBECONFIG' };
  }
  if (input.vsKubernetesSetting !== undefined && input.vsKubernetesSetting.trim() !== '') {
    return { paths: [expandPath(input.vsKubernetesSetting, ctx)], source: 'vs-kubernetes' };
  }
  return { paths: [join(input.homeDir, '.kube', 'config')], source: 'default' };
}
