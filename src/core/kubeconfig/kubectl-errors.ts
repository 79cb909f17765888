/** Recognises kubectl's refusal of the legacy azure auth-provider (kubectl 1.26 and later). */
export function recogniseKubectlError(stderr: string): { kind: 'azurePluginRemoved' } | undefined {
  return /the azure auth plugin has been removed/i.test(stderr) ? { kind: 'azurePluginRemoved' } : undefined;
}
