// client-go's `<file>.lock`: created exclusively before a write, removed after it. client-go creates it
// empty and never reads it, so we write our pid and host into the locks we take: a lock left by one of
// our writers that died is then known to be stale at once, and one left by kubectl (empty) by its age.
// A stale lock blocks kubectl too ("open <file>.lock: file exists"), so it is reported with what is known
// about it, and removed only when the person agrees and it is still the very lock that was reported.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { KubeconfigError, fileSystemError, isNodeError, type LockFacts } from './errors';

/** No write of kubectl's or ours holds the lock this long (kubectl rewrites a 10 MB file in about 4 s). */
export const STALE_LOCK_AFTER_MS = 30_000;
const POLL_MS = 25;

export interface LockOptions {
  lockTimeoutMs: number;
  staleLockAfterMs?: number;
}

interface Holder {
  pid: number;
  host: string;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseHolder(content: string): Holder | undefined {
  try {
    const value: unknown = JSON.parse(content);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, host } = value as { pid?: unknown; host?: unknown };
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && typeof host === 'string' ? { pid, host } : undefined;
  } catch {
    return undefined;
  }
}

/** Linux: when the process started, in epoch ms, from /proc; undefined elsewhere. */
function processStartMs(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (!Number.isFinite(startTicks) || btime === undefined) return undefined;
    // USER_HZ is 100 on every Linux Node runs on.
    return Number(btime) * 1000 + (startTicks / 100) * 1000;
  } catch {
    return undefined;
  }
}

/** Whether a process of this machine is alive and could have created something at `createdMs`. */
export function processAlive(pid: number, createdMs?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (isNodeError(error) && error.code === 'EPERM') return true;
    return false;
  }
  if (createdMs !== undefined) {
    // A pid reused by a process that started after the lock was made cannot be the one holding it.
    const started = processStartMs(pid);
    if (started !== undefined && started > createdMs + 2000) return false;
  }
  return true;
}

/** What is known about `<file>.lock` right now; undefined when there is none. */
export async function inspectLock(file: string, staleAfterMs = STALE_LOCK_AFTER_MS): Promise<LockFacts | undefined> {
  const path = `${file}.lock`;
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') return undefined;
    throw fileSystemError(error, file, 'read');
  }
  const ageMs = Math.max(0, Date.now() - stats.mtimeMs);
  let holder: Holder | undefined;
  if (stats.isFile() && stats.size > 0 && stats.size < 4096) {
    holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
  }
  const facts: LockFacts = { path, ageMs, mtimeMs: stats.mtimeMs, ino: stats.ino, stale: false };
  if (holder !== undefined) {
    facts.holderPid = holder.pid;
    facts.holderHost = holder.host;
    if (holder.host === hostname()) facts.holderAlive = processAlive(holder.pid, stats.mtimeMs);
  }
  facts.stale = facts.holderAlive === false || (facts.holderAlive !== true && ageMs > staleAfterMs);
  return facts;
}

function describe(facts: LockFacts): string {
  const age = facts.ageMs < 2000 ? `${Math.round(facts.ageMs)} ms` : facts.ageMs < 120_000 ? `${Math.round(facts.ageMs / 1000)} s` : `${Math.round(facts.ageMs / 60_000)} min`;
  const who =
    facts.holderPid === undefined
      ? 'no writer named in it (kubectl leaves it empty)'
      : `written by process ${facts.holderPid}${facts.holderHost !== undefined ? ` on ${facts.holderHost}` : ''}, ${facts.holderAlive === true ? 'which is still running' : facts.holderAlive === false ? 'which is no longer running' : 'which may be on another machine'}`;
  return `${facts.path} exists (${age} old, ${who})`;
}

export function lockedError(file: string, facts: LockFacts): KubeconfigError {
  const message = facts.stale
    ? `The kubeconfig ${file} is locked, but no program is writing it: ${describe(facts)}. A program that stopped while writing left it, and it blocks kubectl too. If no kubectl or other tool is running, the lock is stale: delete ${facts.path} and try again.`
    : `The kubeconfig ${file} is locked by another program: ${describe(facts)}. Wait for kubectl or the other tool to finish and try again; if none is running, the lock is stale: delete ${facts.path}.`;
  return new KubeconfigError('locked', file, message, { lock: facts });
}

/**
 * Takes `<file>.lock`, waiting up to `lockTimeoutMs` for another writer's; gives up at once on a lock
 * known to be stale. Returns the release function.
 */
export async function acquireLock(file: string, options: LockOptions): Promise<() => Promise<void>> {
  const path = `${file}.lock`;
  const deadline = Date.now() + options.lockTimeoutMs;
  const content = JSON.stringify({ pid: process.pid, host: hostname(), tool: 'aks-signin' });
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if (!isNodeError(error) || error.code !== 'EEXIST') throw fileSystemError(error, file, 'write');
    }
    // A lock left by a crashed writer is never broken silently: the person decides it is stale.
    const facts = await inspectLock(file, options.staleLockAfterMs);
    if (facts !== undefined && (facts.holderAlive === false || Date.now() >= deadline)) throw lockedError(file, facts);
    if (facts === undefined && Date.now() >= deadline) continue;
    await delay(POLL_MS);
  }
}

/** Waits, like a write would, until no lock is held; throws `locked` with the facts when one stays. */
export async function waitForNoLock(file: string, options: LockOptions): Promise<void> {
  const deadline = Date.now() + options.lockTimeoutMs;
  for (;;) {
    const facts = await inspectLock(file, options.staleLockAfterMs);
    if (facts === undefined) return;
    if (facts.holderAlive === false || Date.now() >= deadline) throw lockedError(file, facts);
    await delay(POLL_MS);
  }
}

/**
 * Removes `<file>.lock` when it is still the very lock `seen` describes (same inode and mtime) and no
 * live writer holds it. Returns false when there was no lock any more; throws `locked` when the lock is
 * another one now, or is held.
 */
export async function removeStaleLock(file: string, seen: Pick<LockFacts, 'ino' | 'mtimeMs'>, options: { staleLockAfterMs?: number } = {}): Promise<boolean> {
  const facts = await inspectLock(file, options.staleLockAfterMs);
  if (facts === undefined) return false;
  if (facts.ino !== seen.ino || facts.mtimeMs !== seen.mtimeMs || !facts.stale) throw lockedError(file, facts);
  // Moved aside first, so that a writer who took the lock in between is noticed and given it back.
  const aside = `${facts.path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(facts.path, aside);
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') return false;
    throw fileSystemError(error, file, 'write');
  }
  const moved = await lstat(aside).catch(() => undefined);
  if (moved !== undefined && (moved.ino !== seen.ino || moved.mtimeMs !== seen.mtimeMs)) {
    await link(aside, facts.path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    const now = await inspectLock(file, options.staleLockAfterMs);
    throw lockedError(file, now ?? facts);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}
