// What the outer test tells the in-host suite, through one environment variable.
export const e2eVariable = 'AKS_SIGNIN_E2E';

export interface E2eSettings {
  kubeconfigPath: string;
  identityPlatformUrl: string;
  kubectl120: string;
  kubectl133: string;
  /** The exec-kubelogin context, written in the token form. */
  tokenContext: string;
  /** The auth-provider context, written in the legacy form (kubectl 1.20 is on PATH). */
  legacyContext: string;
}
