// What the outer test tells the in-host suite of the Azure discovery run, through one environment variable.
export const azureVariable = 'AKS_SIGNIN_AZURE';

export interface AzureSettings {
  /** The kubeconfig the extension uses: it does not exist yet. */
  kubeconfigPath: string;
  identityPlatformUrl: string;
  kubectl133: string;
  /** A cluster of the ARM double that Contoso's alice may get credentials for. */
  cluster: string;
  subscription: string;
}
