// What the outer test tells the in-host suite of the sign-in methods run, through one environment variable.
export const methodsVariable = 'AKS_SIGNIN_METHODS';

export interface MethodsSettings {
  kubeconfigPath: string;
  identityPlatformUrl: string;
  kubectl133: string;
  /** Signed in with the browser (aksSignIn.signInMethod is "browser" in this run). */
  browserContext: string;
  /** Northwind's tenant refuses device codes: the error offers the browser. */
  blockedContext: string;
  /** Signed in with the Azure CLI, logged in beforehand as `azureCliUser`. */
  azureCliContext: string;
  azureCliUser: string;
}
