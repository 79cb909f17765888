// What has to happen for a failed operation to succeed, carried by every error a person may see, so the
// keeper knows whether to wait, to retry when the file changes or to stop, and the views know which fix to
// offer. Retry-After from the platform travels with it.

export type Remedy =
  /** Transient: nothing to do, it is retried (not before `retryAfterMs` when the service said so). */
  | { kind: 'wait'; retryAfterMs?: number }
  /** The kubeconfig must be fixed by hand (or freed by another program); retried, and at once when it changes. */
  | { kind: 'fixFile'; file: string }
  /** Only a new interactive sign-in helps. */
  | { kind: 'signInAgain' }
  /** Only an administrator of the tenant can change what refuses it. */
  | { kind: 'askAdmin' }
  /** A setting of the extension or the kubeconfig entry names something that does not exist. */
  | { kind: 'fixSetting' }
  /** The person ended or let lapse an interactive step; starting again is enough. */
  | { kind: 'startAgain' };

/** Whether the remedy clears up without a person, so the operation should be tried again later. */
export function healsByItself(remedy: Remedy): boolean {
  return remedy.kind === 'wait' || remedy.kind === 'fixFile';
}
