// The sessions of one machine, shared by every VS Code window: which kubeconfig users are signed in, with
// which account and method, and who is refreshing which identity right now. It lives in one small JSON file
// in the extension's global storage folder (the same folder for every window of a profile, local or
// remote), changed only under a lock and only key by key, so a window never writes back another window's
// records from a stale copy. Nothing secret is in it: tokens stay in SecretStorage and the kubeconfig.
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CredentialFormat } from '../kubeconfig';
import type { Clock, Disposable, Logger } from '../ports';

/** The ways a session can hold its token (see `src/core/auth`); stored so the keeper asks the same way. */
export type { SignInMethodId } from '../auth/methods';
import type { SignInMethodId } from '../auth/methods';

/** Non-secret facts about one signed-in kubeconfig user. */
export interface SessionRecord {
  file: string;
  userName: string;
  /** New on every sign-in: work started for an older sign-in must not touch a newer one. */
  sessionId: string;
  method: SignInMethodId;
  /** The client id whose token cache holds the account. */
  clientId: string;
  homeAccountId: string;
  username: string;
  format: CredentialFormat;
  /** Set when a person chose the format for this entry, which then outranks `auto`. */
  formatPinned?: boolean;
  /** Epoch milliseconds. */
  expiresOn: number;
  /** tokenFingerprint() of the access token last written. */
  tokenFingerprint?: string;
}

/** Who may write an identity's fields right now; expires by itself when its window dies. */
export interface Lease {
  owner: string;
  until: number;
}

interface StoreFile {
  version: 1;
  records: Record<string, SessionRecord>;
  leases: Record<string, Lease>;
}

export type LeaseAnswer = { acquired: true } | { acquired: false; owner: string; until: number };

export interface RecordStoreOptions {
  /** A folder shared by every window of the machine (VS Code's globalStorageUri). */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** Watch the file for other windows' changes (off in tests that drive changes by hand). Default true. */
  watch?: boolean;
}

export const identityKey = (file: string, userName: string): string => `${file}\u0000${userName}`;

const STORE_NAME = 'sessions.json';

/** The store file in `dir`: what other windows (and tests) read. */
export function sessionStoreFile(dir: string): string {
  return join(dir, STORE_NAME);
}
const LOCK_POLL_MS = 10;
/** Changes take milliseconds; a lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 5_000;
const LOCK_TIMEOUT_MS = 10_000;
const WATCH_DEBOUNCE_MS = 30;

const emptyStore = (): StoreFile => ({ version: 1, records: {}, leases: {} });

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

export class SessionRecordStore implements Disposable {
  private readonly path: string;
  private readonly lockPath: string;
  private cache: StoreFile = emptyStore();
  private cacheStamp = '';
  private readonly listeners = new Set<() => void>();
  private watcher: FSWatcher | undefined;
  private watchTimer: ReturnType<typeof setTimeout> | undefined;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: RecordStoreOptions) {
    this.path = sessionStoreFile(options.dir);
    this.lockPath = `${this.path}.lock`;
  }

  /** Fires when the file changed, also by this store; listeners read again with `all()`. */
  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async all(): Promise<Map<string, SessionRecord>> {
    const store = await this.read();
    return new Map(Object.entries(store.records));
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    return (await this.read()).records[key];
  }

  async put(record: SessionRecord): Promise<void> {
    await this.mutate((store) => {
      store.records[identityKey(record.file, record.userName)] = record;
    });
  }

  /** Changes one record from its current value; `change` returns undefined to delete it. */
  async update(key: string, change: (current: SessionRecord | undefined) => SessionRecord | undefined): Promise<SessionRecord | undefined> {
    let result: SessionRecord | undefined;
    await this.mutate((store) => {
      result = change(store.records[key]);
      if (result === undefined) delete store.records[key];
      else store.records[key] = result;
    });
    return result;
  }

  /** Takes or renews the lease of `key` for `owner` unless another live owner holds it. */
  async tryLease(key: string, owner: string, ttlMs: number): Promise<LeaseAnswer> {
    let answer: LeaseAnswer = { acquired: true };
    await this.mutate((store) => {
      const now = this.options.clock.now();
      const held = store.leases[key];
      if (held && held.owner !== owner && held.until > now) {
        answer = { acquired: false, owner: held.owner, until: held.until };
        return false;
      }
      store.leases[key] = { owner, until: now + ttlMs };
      return true;
    });
    return answer;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.mutate((store) => {
      if (store.leases[key]?.owner !== owner) return false;
      delete store.leases[key];
      return true;
    });
  }

  dispose(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.listeners.clear();
  }

  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      if (this.options.watch === false) return;
      try {
        // The folder, not the file: the file is replaced by rename, which ends a watch on the file itself.
        this.watcher = watch(this.options.dir, { persistent: false }, (_event, name) => {
          if (name !== null && name !== STORE_NAME) return;
          if (this.watchTimer) clearTimeout(this.watchTimer);
          this.watchTimer = setTimeout(() => void this.noticeChange(), WATCH_DEBOUNCE_MS);
        });
        this.watcher.on('error', () => undefined);
      } catch (error) {
        this.options.logger.warn(`Cannot watch ${this.options.dir} for other windows' sign-ins (${(error as Error).message}); they are picked up at the next change here.`);
      }
    })();
    return this.ready;
  }

  private async noticeChange(): Promise<void> {
    const before = this.cacheStamp;
    await this.read().catch(() => undefined);
    if (this.cacheStamp !== before) this.fire();
  }

  private fire(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.options.logger.error(`A session-store listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** The file as it is now; read again only when its size or time changed since the last read. */
  private async read(): Promise<StoreFile> {
    await this.prepare();
    let stamp: string;
    try {
      const info = await stat(this.path);
      stamp = `${info.size}:${info.mtimeMs}:${info.ino}`;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) {
        this.cache = emptyStore();
        this.cacheStamp = '';
        return this.cache;
      }
      throw error;
    }
    if (stamp === this.cacheStamp) return this.cache;
    this.cache = this.parse(await readFile(this.path, 'utf8').catch(() => ''));
    this.cacheStamp = stamp;
    return this.cache;
  }

  private parse(text: string): StoreFile {
    try {
      const value = JSON.parse(text) as Partial<StoreFile>;
      if (value && value.version === 1 && typeof value.records === 'object' && typeof value.leases === 'object') {
        return { version: 1, records: { ...value.records }, leases: { ...value.leases } };
      }
    } catch {
      // Fall through: a damaged store costs the sessions' bookkeeping, never a kubeconfig.
    }
    if (text.trim() !== '') this.options.logger.warn(`${this.path} could not be read and is started afresh; signed-in contexts may need a new sign-in.`);
    return emptyStore();
  }

  /** Applies `change` to the newest file under the lock; `change` returns false when it changed nothing. */
  private async mutate(change: (store: StoreFile) => boolean | void): Promise<void> {
    await this.prepare();
    let changed = false;
    await this.withLock(async () => {
      this.cacheStamp = '';
      const store = await this.read();
      const copy: StoreFile = { version: 1, records: { ...store.records }, leases: { ...store.leases } };
      if (change(copy) === false) return;
      changed = true;
      const now = this.options.clock.now();
      for (const [key, lease] of Object.entries(copy.leases)) if (lease.until <= now) delete copy.leases[key];
      const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(copy, null, 1)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
      this.cache = copy;
      const info = await stat(this.path);
      this.cacheStamp = `${info.size}:${info.mtimeMs}:${info.ino}`;
    });
    if (changed) this.fire();
  }

  private async withLock(task: () => Promise<void>): Promise<void> {
    const owner = `${process.pid}@${hostname()}`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        const handle = await open(this.lockPath, 'wx', 0o600);
        await handle.writeFile(owner);
        await handle.close();
        break;
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      if (await this.lockIsStale()) {
        await unlink(this.lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`The session store ${this.path} stayed locked by another window for ${LOCK_TIMEOUT_MS / 1000} s.`);
      await delay(LOCK_POLL_MS);
    }
    try {
      await task();
    } finally {
      await unlink(this.lockPath).catch(() => undefined);
    }
  }

  private async lockIsStale(): Promise<boolean> {
    try {
      const [text, info] = await Promise.all([readFile(this.lockPath, 'utf8'), stat(this.lockPath)]);
      const [pid, host] = text.split('@');
      if (host === hostname() && pid !== undefined && /^\d+$/.test(pid) && !processIsAlive(Number(pid))) return true;
      return Date.now() - info.mtimeMs > STALE_LOCK_MS;
    } catch {
      // Gone between our attempt and this look, or half-written by a writer that just created it.
      return false;
    }
  }
}
