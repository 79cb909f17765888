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
  | 'notAks';

/**
 * Every failure a person may see about a kubeconfig. The message names the file and what to do; it is
 * built only from names and paths, never from credential values, so it is safe to show and log.
 */
export class KubeconfigError extends Error {
  readonly kind: KubeconfigErrorKind;
  readonly file: string;

  constructor(kind: KubeconfigErrorKind, file: string, message: string) {
    super(message);
    this.name = 'KubeconfigError';
    this.kind = kind;
    this.file = file;
  }
}

export function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** Maps a file-system failure on `file` to the error a person can act on. */
export function fileSystemError(error: unknown, file: string, doing: string): KubeconfigError {
  const code = isNodeError(error) ? error.code : undefined;
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
    default:
      return new KubeconfigError(
        doing === 'read' ? 'unreadable' : 'readOnly',
        file,
        `The kubeconfig ${file} could not be ${doing === 'read' ? 'read' : 'written'} (${code ?? 'unknown error'}).`,
      );
  }
}
