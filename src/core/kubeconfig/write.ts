// Every write follows client-go's protocol so kubectl and we never interleave: take `<file>.lock`
// (created exclusively), re-read under the lock, patch, verify the patched text against the original
// (verify.ts), write a temporary file beside the target, fsync, and rename it over the target, which
// readers therefore see whole or not at all. A file that will hold a token is never left readable by
// group or others; its owner and group are kept when the process may keep them.
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { access, constants, link, mkdir, open, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KubeconfigError, fileSystemError, isNodeError, isTransientFileSystemError } from './errors';
import { KubeconfigText } from './entries';
import { planCurrentContext } from './current-context';
import { acquireLock, processAlive, type LockOptions } from './lock';
import { planClear, planCredentials, type Credentials } from './patch';
import { applyEdits, checkCharacters, checkLineBreaks, decodeKubeconfig, encodeEdited, encodeKubeconfig, type Edit } from './text';
import { verifyDocumentPlan, verifyUserPlan, type Verification, type VerificationMode } from './verify';

export interface WriteOptions {
  /** How long to wait for another writer's lock before giving up; kubectl holds it for well under a second. */
  lockTimeoutMs?: number;
  /** A lock whose writer is unknown counts as stale after this long (default 30 s). */
  staleLockAfterMs?: number;
  /** How to verify the patched text; tests force one way or the other. */
  verification?: VerificationMode;
}

/** What a write did, for the caller to log and say. */
export interface WriteReport {
  /** Whether the file was replaced (false: it already held exactly this). */
  changed: boolean;
  /** Set when this write narrowed an existing file readable by group or others to 0600: its mode before. */
  tightenedModeFrom?: number;
  /** How the patched text was verified. */
  verification?: Verification;
  /** Temporary files of ours that dead writers had left beside the file, now removed. */
  removedLeftovers?: string[];
}

const DEFAULT_LOCK_TIMEOUT_MS = 3000;
const ATTEMPTS_WHEN_CHANGING = 3;
const PRIVATE_MODE = 0o600;

/** The file-system calls the writer makes that tests need to make fail; nothing else uses this. */
export const fileSystem = { rename, open };

interface Transformed {
  patched: string;
  edits: Edit[];
  verification: Verification;
}

type Transform = (model: KubeconfigText) => Transformed | undefined;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function lockOptions(options: WriteOptions): LockOptions {
  return { lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, ...(options.staleLockAfterMs !== undefined ? { staleLockAfterMs: options.staleLockAfterMs } : {}) };
}

async function resolveTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch (error) {
    throw fileSystemError(error, file, 'read');
  }
}

/** Our temporary files are named `.<base>.<pid>.<8 hex>.tmp`, beside the target. */
function temporaryName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function leftoverPattern(target: string): RegExp {
  const base = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${base}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
}

/**
 * Removes temporary files a killed writer of ours left beside `target`. Called under the lock, when no
 * writer that follows the protocol can be half way through; a file whose pid still runs here is kept.
 */
export async function removeLeftovers(target: string): Promise<string[]> {
  const pattern = leftoverPattern(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    const path = join(dirname(target), name);
    await unlink(path).then(
      () => removed.push(path),
      () => undefined,
    );
  }
  return removed;
}

interface Before {
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
}

function unchanged(now: Before, before: Before): boolean {
  return now.size === before.size && now.mtimeMs === before.mtimeMs && now.ino === before.ino;
}

/** Rename, retried while the file system says it is busy (Windows, while another process has the file open). */
async function renameRetrying(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fileSystem.rename(from, to);
      return;
    } catch (error) {
      if (attempt >= 6 || !isTransientFileSystemError(error, 'rename') || (isNodeError(error) && error.code === 'EBUSY' && process.platform !== 'win32')) throw error;
      await delay(20 * 2 ** attempt);
    }
  }
}

/**
 * Writes `bytes` over the target in place, as client-go does: the only way into a file that is a mount
 * point of its own (a single bind-mounted file in a dev container refuses the rename with EBUSY).
 */
async function writeInPlace(target: string, file: string, bytes: Buffer, mode: number | undefined): Promise<void> {
  const handle = await fileSystem.open(target, 'r+').catch((error: unknown) => {
    throw fileSystemError(error, file, 'write');
  });
  try {
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.truncate(bytes.length);
    if (mode !== undefined) await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    throw fileSystemError(error, file, 'write');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function writeAtomically(target: string, file: string, bytes: Buffer, mode: number, before: Before | undefined): Promise<boolean> {
  const temporary = temporaryName(target);
  let handle;
  try {
    handle = await fileSystem.open(temporary, 'wx', mode);
  } catch (error) {
    throw fileSystemError(error, file, 'write');
  }
  try {
    await handle.writeFile(bytes);
    if (before !== undefined) {
      const made = await handle.stat();
      // Kept when the process may (root, or a group the user is in); quietly not otherwise.
      if (made.uid !== before.uid || made.gid !== before.gid) await handle.chown(before.uid, before.gid).catch(() => undefined);
    }
    // The umask narrows the mode given to open; the file must have exactly this mode.
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (before !== undefined) {
      const now = await stat(target);
      if (!unchanged(now, before)) {
        await unlink(temporary);
        return false;
      }
    }
    try {
      await renameRetrying(temporary, target);
    } catch (error) {
      if (before === undefined || !isNodeError(error) || (error.code !== 'EBUSY' && error.code !== 'EXDEV')) throw error;
      await unlink(temporary).catch(() => undefined);
      await writeInPlace(target, file, bytes, mode !== (before.mode & 0o7777) ? mode : undefined);
      return true;
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error instanceof KubeconfigError ? error : fileSystemError(error, file, 'rename');
  }
  const folder = await open(dirname(target), 'r').catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close().catch(() => undefined);
  return true;
}

async function checkWritable(target: string, file: string): Promise<void> {
  try {
    await access(target, constants.W_OK);
    await access(dirname(target), constants.W_OK);
  } catch (error) {
    throw fileSystemError(error, file, 'write');
  }
}

/** Reads, checks and decodes the file; throws the KubeconfigError a person can act on. */
export async function readText(target: string, file: string): Promise<{ bytes: Buffer; text: string; before: Before; ascii: boolean }> {
  let before;
  let bytes;
  try {
    before = await stat(target);
    bytes = await readFile(target);
  } catch (error) {
    throw fileSystemError(error, file, 'read');
  }
  const text = decodeKubeconfig(bytes, file);
  return { bytes, text, ascii: isAscii(bytes), before: { size: before.size, mtimeMs: before.mtimeMs, ino: before.ino, mode: before.mode, uid: before.uid, gid: before.gid } };
}

/** Applies `transform` to the file under client-go's lock; the file is untouched when it throws. */
async function updateFile(file: string, transform: Transform, holdsToken: boolean, options: WriteOptions = {}): Promise<WriteReport> {
  const target = await resolveTarget(file);
  const release = await acquireLock(file, lockOptions(options));
  try {
    const removed = await removeLeftovers(target);
    const leftovers = removed.length > 0 ? { removedLeftovers: removed } : {};
    for (let attempt = 0; attempt < ATTEMPTS_WHEN_CHANGING; attempt++) {
      const { bytes, text, before, ascii } = await readText(target, file);
      if (!ascii) checkLineBreaks(text, file);
      const result = transform(new KubeconfigText(text, file));
      if (result === undefined) return { changed: false, ...leftovers };
      await checkWritable(target, file);
      const mode = before.mode & 0o7777;
      const tighten = holdsToken && (mode & 0o077) !== 0;
      const output = encodeEdited(bytes, text, result.edits, () => result.patched);
      // Editors do not take the lock; when the file changed under us, start over from its new text.
      if (await writeAtomically(target, file, output, tighten ? PRIVATE_MODE : mode, before)) {
        return { changed: true, verification: result.verification, ...(tighten ? { tightenedModeFrom: mode } : {}), ...leftovers };
      }
    }
    throw new KubeconfigError('changedOnDisk', file, `The kubeconfig ${file} kept changing while AKS Sign-In was writing it. Close other programs editing it and try again.`);
  } finally {
    await release();
  }
}

function credentialTransform(userName: string, credentials: Credentials, options: WriteOptions): Transform {
  return (model) => {
    const plan = planCredentials(model, userName, credentials);
    const patched = applyEdits(model.text, plan.edits);
    if (patched === model.text) return undefined;
    return { patched, edits: plan.edits, verification: verifyUserPlan(model, plan, patched, { mode: options.verification }) };
  };
}

function clearTransform(userName: string, options: WriteOptions): Transform {
  return (model) => {
    const plan = planClear(model, userName);
    if (plan === undefined) return undefined;
    const patched = applyEdits(model.text, plan.edits);
    if (patched === model.text) return undefined;
    return { patched, edits: plan.edits, verification: verifyUserPlan(model, plan, patched, { mode: options.verification }) };
  };
}

function currentContextTransform(contextName: string, options: WriteOptions): Transform {
  return (model) => {
    const plan = planCurrentContext(model, contextName);
    const patched = applyEdits(model.text, plan.edits);
    if (patched === model.text) return undefined;
    return { patched, edits: plan.edits, verification: verifyDocumentPlan(model, plan, patched, { mode: options.verification }) };
  };
}

function inText(text: string, file: string, transform: Transform): string {
  checkCharacters(text, file);
  checkLineBreaks(text, file);
  return transform(new KubeconfigText(text, file))?.patched ?? text;
}

/** Writes fresh credentials into the user entry, in the one format asked for. Both formats hold a token. */
export async function writeCredentials(file: string, userName: string, credentials: Credentials, options: WriteOptions = {}): Promise<WriteReport> {
  return updateFile(file, credentialTransform(userName, credentials, options), true, options);
}

/** Sign-out: puts the user entry back to its skeleton, byte for byte, with no token left in the file. */
export async function clearCredentials(file: string, userName: string, options: WriteOptions = {}): Promise<WriteReport> {
  return updateFile(file, clearTransform(userName, options), false, options);
}

/** Points kubectl at `contextName` by rewriting only the current-context value. */
export async function setCurrentContext(file: string, contextName: string, options: WriteOptions = {}): Promise<WriteReport> {
  return updateFile(file, currentContextTransform(contextName, options), false, options);
}

/** The verified text of `text` with `credentials` written into the user `userName`. */
export function patchCredentials(text: string, file: string, userName: string, credentials: Credentials, options: WriteOptions = {}): string {
  return inText(text, file, credentialTransform(userName, credentials, options));
}

/** The verified text of `text` with the user `userName` back to its skeleton. */
export function patchClear(text: string, file: string, userName: string, options: WriteOptions = {}): string {
  return inText(text, file, clearTransform(userName, options));
}

/** The verified text of `text` pointing kubectl at `contextName`. */
export function patchCurrentContext(text: string, file: string, contextName: string, options: WriteOptions = {}): string {
  return inText(text, file, currentContextTransform(contextName, options));
}

/** Creates a new kubeconfig file (and its folder) readable by its owner only; fails when it exists. */
export async function createPrivateFile(file: string, text: string): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw fileSystemError(error, file, 'write');
  });
  const temporary = temporaryName(file);
  try {
    const handle = await fileSystem.open(temporary, 'wx', PRIVATE_MODE);
    try {
      await handle.writeFile(encodeKubeconfig(text));
      await handle.chmod(PRIVATE_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A link, not a rename: it fails instead of replacing a file someone created meanwhile.
    try {
      await link(temporary, file);
    } catch (error) {
      if (isNodeError(error) && error.code === 'EEXIST') return false;
      throw error;
    }
    return true;
  } catch (error) {
    throw error instanceof KubeconfigError ? error : fileSystemError(error, file, 'write');
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

export { lockOptions, resolveTarget, checkWritable, updateFile, type Transform, type Transformed };
