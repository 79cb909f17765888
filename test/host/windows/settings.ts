// What the outer test tells the in-host suite of the several-windows run, through one environment variable.
export const windowsVariable = 'AKS_SIGNIN_WINDOWS';

export interface WindowsSettings {
  /** The sandbox workspace, whose kubeconfig the other windows keep current. */
  workspaceFolder: string;
  kubeconfigPath: string;
  identityPlatformUrl: string;
  kubectl133: string;
  context: string;
  /** Token lifetimes to run with several windows before one is closed (more for a soak). */
  lifetimes: number;
}
