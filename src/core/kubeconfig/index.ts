export { KubeconfigError, type KubeconfigErrorKind } from './errors';
export {
  AKS_MANAGED_CLIENT_ID,
  DEFAULT_ENVIRONMENT,
  EXTENSION_NAME,
  recogniseCredential,
  tokenFingerprint,
  type AksIdentity,
  type CredentialFormat,
  type UserCredential,
} from './identity';
export { expandPath, locateKubeconfigs, type LocateInput, type LocatedKubeconfigs } from './locate';
export { fileForUser, readKubeconfig, type KubeContext, type KubeUser, type KubeconfigView } from './read';
export { patchClear, patchCredentials, type Credentials } from './patch';
export { clearCredentials, setCurrentContext, writeCredentials, type WriteOptions } from './write';
export { recogniseKubectlError } from './kubectl-errors';
