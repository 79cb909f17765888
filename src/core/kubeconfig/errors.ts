export type KubeconfigErrorKind =
  | 'malformed'
  | 'notKubeconfig'
  | 'duplicateName'
  | 'missingReference'
  | 'unreadable'
  | 'readOnly'
  | 'changedOnDisk'
  | 'locked'
  | 'notFound'
  | 'notAks'
  /** A transient refusal by the file system (EBUSY, EAGAIN, a rename another process blocks on Windows): try again. */
  | 'busy'
  /** The patched text did not verify, or could not be verified: the message names the construct. */
  | 'unverifiable'
  /** A merge met an entry of the same name and different content, and no resolution was given for it. */
  | 'conflict';

/** What is known about `<file>.lock`, the lock client-go and we take before writing. */
export interface LockFacts {
  path: string;
  /** How long ago the lock was created (its mtime), in milliseconds. */
  ageMs: number;
  /** The lock's identity, so removeStaleLock removes only the very lock that was reported. */
  mtimeMs: number;
  ino: number;
  /** The writer that holds it, when it is one of ours (kubectl leaves the lock empty). */
  holderPid?: number;
  holderHost?: string;
  /** Whether that writer still runs; undefined when it cannot be known (kubectl's lock, another machine). */
  holderAlive?: boolean;
  /** No live writer holds it: its writer is gone, or nobody has held it for longer than any write takes. */
  stale: boolean;
}

/**
 * Every failure a person may see about a kubeconfig. The message names the file and what to do; it is
 * built only from names and paths, never from credential values, so it is safe to show and log.
 */
export class KubeconfigError extends Error {
  readonly kind: KubeconfigErrorKind;
  readonly file: string;
  /** For `locked`: the lock as it was found. */
  readonly lock?: LockFacts;

  constructor(kind: KubeconfigErrorKind, file: string, message: string, details: { lock?: LockFacts } = {}) {
    super(message);
    this.name = 'KubeconfigError';
    this.kind = kind;
    this.file = file;
    if (details.lock !== undefined) this.lock = details.lock;
  }
}

export function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** File-system refusals that go away by themselves; the caller may retry. */
const TRANSIENT = new Set(['EBUSY', 'EAGAIN', 'EWOULDBLOCK', 'ETXTBSY', 'EMFILE', 'ENFILE', 'EINTR']);

export function isTransientFileSystemError(error: unknown, doing: string): boolean {
  if (!isNodeError(error)) return false;
  if (TRANSIENT.has(error.code ?? '')) return true;
  // On Windows a rename over a file another process has open fails with EPERM or EACCES until it closes it.
  return process.platform === 'win32' && doing === 'rename' && (error.code === 'EPERM' || error.code === 'EACCES');
}

/** Maps a file-system failure on `file` to the error a person can act on. */
export function fileSystemError(error: unknown, file: string, doing: 'read' | 'write' | 'rename'): KubeconfigError {
  const code = isNodeError(error) ? error.code : undefined;
  if (isTransientFileSystemError(error, doing)) {
    return new KubeconfigError('busy', file, `The kubeconfig ${file} is busy (${code}): another program has it open or the file system refused for a moment. AKS Sign-In will try again; the file was left untouched.`);
  }
  switch (code) {
    case 'ENOENT':
      return new KubeconfigError('notFound', file, `The kubeconfig ${file} does not exist. Check the path in the setting aksSignIn.kubeconfig or KUBECONFIG.`);
    case 'EACCES':
    case 'EPERM':
      return doing === 'read'
        ? new KubeconfigError('unreadable', file, `The kubeconfig ${file} cannot be read: permission denied. Give your user read access to it.`)
        : new KubeconfigError('readOnly', file, `The kubeconfig ${file} cannot be written: permission denied. Give your user write access to the file and its folder.`);
    case 'EROFS':
      return new KubeconfigError('readOnly', file, `The kubeconfig ${file} is on a read-only file system. Point aksSignIn.kubeconfig to a writable file.`);
    case 'EISDIR':
      return new KubeconfigError('unreadable', file, `The kubeconfig path ${file} is a folder, not a file. Point it to the kubeconfig file.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new KubeconfigError('readOnly', file, `The kubeconfig ${file} could not be written: the disk is full (${code}). Free some space; the file was left untouched.`);
    default:
      return new KubeconfigError(
        doing === 'read' ? 'unreadable' : 'readOnly',
        file,
        `The kubeconfig ${file} could not be ${doing === 'read' ? 'read' : 'written'} (${code ?? 'unknown error'}).`,
      );
  }
}
