// Everything between "this kubeconfig user is an AKS identity" and "here is a valid access token for it".
export type { AuthTarget, SignedInAccount, TokenResult, AuthErrorKind } from './types';
export { AuthError } from './errors';
export { AuthEngine } from './engine';
export type { AuthEngineOptions } from './engine';
export { resolveCloud, authorityFor, scopesFor } from './clouds';
export { cacheSecretKey } from './token-cache';
