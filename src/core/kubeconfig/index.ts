export { KubeconfigError, type KubeconfigErrorKind, type LockFacts } from './errors';
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
export { type Credentials } from './patch';
export {
  clearCredentials,
  patchClear,
  patchCredentials,
  patchCurrentContext,
  setCurrentContext,
  writeCredentials,
  type WriteOptions,
  type WriteReport,
} from './write';
export { inspectLock, removeStaleLock } from './lock';
export { checkCredentialWrite } from './preflight';
export { mergeKubeconfig, planKubeconfigMerge, type EntryKind, type MergePlan, type MergePlanEntry, type MergeReport, type MergeResolution, type MergedEntry } from './merge';
export type { Verification, VerificationMode } from './verify';
