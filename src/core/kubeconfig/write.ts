// Every write follows client-go's protocol so kubectl and we never interleave: take `<file>.lock`
// (created exclusively), re-read under the lock, patch, write a temporary file beside the target,
// fsync, and rename it over the target, which readers therefore see whole or not at all.
import { randomBytes } from 'node:crypto';
import { access, constants, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { KubeconfigError, fileSystemError, isNodeError } from './errors';
import { dominantEol, patchClear, patchCredentials, quoteYaml, type Credentials } from './patch';
import { parseKubeconfigText } from './read';

export interface WriteOptions {
  /** How long to wait for another writer's lock before giving up; kubectl holds it for well under a second. */
  lockTimeoutMs?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 3000;
const LOCK_POLL_MS = 25;
const ATTEMPTS_WHEN_CHANGING = 3;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function acquireLock(file: string, timeoutMs: number): Promise<() => Promise<void>> {
  const lockPath = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.close();
      return async () => {
        await unlink(lockPath).catch(() => undefined);
      };
    } catch (error) {
      if (!isNodeError(error) || error.code !== 'EEXIST') throw fileSystemError(error, file, 'write');
    }
    // A lock left by a crashed writer is never broken silently: the person decides it is stale.
    if (Date.now() >= deadline) {
      throw new KubeconfigError(
        'locked',
        file,
        `The kubeconfig ${file} is locked by another program (${lockPath} exists). Wait for kubectl or the other tool to finish; if none is running, the lock is stale: delete ${lockPath} and try again.`,
      );
    }
    await delay(LOCK_POLL_MS);
  }
}

async function resolveTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch (error) {
    throw fileSystemError(error, file, 'read');
  }
}

async function writeAtomically(target: string, file: string, text: string, mode: number, unchangedSince: { size: number; mtimeMs: number }): Promise<boolean> {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temporary, 'wx', mode);
  } catch (error) {
    throw fileSystemError(error, file, 'write');
  }
  try {
    await handle.writeFile(text, 'utf8');
    // The umask narrows the mode given to open; the file must keep exactly the mode it had.
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    const now = await stat(target);
    if (now.size !== unchangedSince.size || now.mtimeMs !== unchangedSince.mtimeMs) {
      await unlink(temporary);
      return false;
    }
    await rename(temporary, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error instanceof KubeconfigError ? error : fileSystemError(error, file, 'write');
  }
  const folder = await open(dirname(target), 'r').catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close().catch(() => undefined);
  return true;
}

/** Applies `transform` to the file's text under client-go's lock; the file is untouched when it throws. */
async function updateFile(file: string, transform: (text: string, target: string) => string, options: WriteOptions = {}): Promise<void> {
  const target = await resolveTarget(file);
  const release = await acquireLock(file, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  try {
    for (let attempt = 0; attempt < ATTEMPTS_WHEN_CHANGING; attempt++) {
      let before;
      let text;
      try {
        before = await stat(target);
        text = await readFile(target, 'utf8');
      } catch (error) {
        throw fileSystemError(error, file, 'read');
      }
      const patched = transform(text, file);
      if (patched === text) return;
      try {
        await access(target, constants.W_OK);
      } catch (error) {
        throw fileSystemError(error, file, 'write');
      }
      // Editors do not take the lock; when the file changed under us, start over from its new text.
      if (await writeAtomically(target, file, patched, before.mode & 0o7777, before)) return;
    }
    throw new KubeconfigError('changedOnDisk', file, `The kubeconfig ${file} kept changing while AKS Sign-In was writing it. Close other programs editing it and try again.`);
  } finally {
    await release();
  }
}

/** Writes fresh credentials into the user entry, in the one format asked for. */
export async function writeCredentials(file: string, userName: string, credentials: Credentials, options?: WriteOptions): Promise<void> {
  await updateFile(file, (text) => patchCredentials(text, file, userName, credentials), options);
}

/** Sign-out: puts the user entry back to its skeleton, byte for byte, with no token left in the file. */
export async function clearCredentials(file: string, userName: string, options?: WriteOptions): Promise<void> {
  await updateFile(file, (text) => patchClear(text, file, userName), options);
}

const YAML_WORDS = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;

function yamlName(name: string): string {
  return /^[A-Za-z_][\w./@-]*$/.test(name) && !YAML_WORDS.test(name) ? name : quoteYaml(name);
}

const CURRENT_CONTEXT_LINE = /^current-context:[^\n]*?(\r?)$/gm;

/** Points kubectl at `contextName` by rewriting only the current-context line. */
export function patchCurrentContext(text: string, file: string, contextName: string): string {
  const lines = [...text.matchAll(CURRENT_CONTEXT_LINE)];
  const match = lines[0];
  if (lines.length === 1 && match?.index !== undefined) {
    return text.slice(0, match.index) + `current-context: ${yamlName(contextName)}${match[1] ?? ''}` + text.slice(match.index + match[0].length);
  }
  const config = parseKubeconfigText(text, file);
  const firstContent = /^\s*([^#\s])/m.exec(text)?.[1];
  if (firstContent !== '{' && lines.length === 0 && !('current-context' in config)) {
    const eol = dominantEol(text);
    return text + (text === '' || text.endsWith('\n') ? '' : eol) + `current-context: ${yamlName(contextName)}${eol}`;
  }
  const document = parseDocument(text);
  if (!isMap(document.contents)) throw new KubeconfigError('notKubeconfig', file, `The file ${file} is not a kubeconfig. Choose a kubeconfig file.`);
  const value = document.contents.get('current-context', true);
  if (isScalar(value) && value.range != null) return text.slice(0, value.range[0]) + JSON.stringify(contextName) + text.slice(value.range[1]);
  const open = document.contents.range?.[0] ?? 0;
  return text.slice(0, open + 1) + `"current-context": ${JSON.stringify(contextName)}, ` + text.slice(open + 1);
}

export async function setCurrentContext(file: string, contextName: string, options?: WriteOptions): Promise<void> {
  await updateFile(file, (text) => patchCurrentContext(text, file, contextName), options);
}
