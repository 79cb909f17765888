// Shared pieces of the fault suite: scratch folders, tokens we can recognise again, and a reader that takes
// client-go's lock, because kubectl rewrites the file in place (truncate, then write) and a reader that did
// not wait for the lock could see a half-written file that no writer ever produced.
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/** A fresh folder removed when the test ends. */
export function scratchFolder(t: { after(fn: () => void): void }, prefix = 'aks-signin-faults-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A JWT-shaped token that says which write produced it. `padding` makes tokens of varying length, so a
 * write that was cut short or mixed two versions would show as a token that matches no index.
 */
export function numberedToken(index: number, padding = 0): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ n: index, exp: 1_900_000_000, pad: 'p'.repeat(padding) })}.c2lnbmF0dXJl`;
}

/** The write index a token made by numberedToken carries, or undefined for anything else. */
export function tokenIndex(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined;
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { n?: unknown; pad?: unknown };
    if (typeof claims.n !== 'number' || typeof claims.pad !== 'string') return undefined;
    return numberedToken(claims.n, claims.pad.length) === token ? claims.n : undefined;
  } catch {
    return undefined;
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `read` while holding `<file>.lock`, as client-go's writers do; waits for the lock up to `timeoutMs`. */
export async function underLock<T>(file: string, read: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const lockPath = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await open(lockPath, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) throw new Error(`${lockPath} was held for more than ${timeoutMs} ms`);
      await delay(5);
    }
  }
  try {
    return await read();
  } finally {
    await unlink(lockPath);
  }
}

export interface ParsedKubeconfig {
  text: string;
  currentContext?: string;
  contexts: string[];
  users: Map<string, Record<string, unknown>>;
}

/** Parses the whole file strictly; throws when it is not complete YAML. */
export async function readWhole(file: string): Promise<ParsedKubeconfig> {
  const text = await readFile(file, 'utf8');
  const config = parse(text) as {
    'current-context'?: string;
    contexts?: Array<{ name: string }> | null;
    users?: Array<{ name: string; user: Record<string, unknown> }> | null;
  };
  if (typeof config !== 'object' || config === null) throw new Error('the kubeconfig parsed to no mapping');
  return {
    text,
    currentContext: config['current-context'],
    contexts: (config.contexts ?? []).map((context) => context.name),
    users: new Map((config.users ?? []).map((user) => [user.name, user.user])),
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
