// A keeper on a fake clock that records every refresh call, state change and log line.
import { FakeClock } from '../../support/fake-clock';
import type { Logger } from '../../../src/core/ports';
import { type KeeperOptions, type KeeperState, type RefreshOutcome, TokenKeeper } from '../../../src/core/keeper';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export interface Harness {
  clock: FakeClock;
  keeper: TokenKeeper;
  calls: { id: string; at: number }[];
  changes: { id: string; at: number; state: KeeperState }[];
  logs: string[];
  window: { ms: number };
}

export function harness(
  refresh: (id: string, clock: FakeClock) => Promise<RefreshOutcome>,
  options: Partial<Omit<KeeperOptions, 'clock' | 'logger' | 'refresh' | 'refreshBeforeMs'>> = {},
): Harness {
  const clock = new FakeClock();
  const calls: Harness['calls'] = [];
  const changes: Harness['changes'] = [];
  const logs: string[] = [];
  const window = { ms: 10 * MINUTE };
  const record = (level: string) => (message: string) => void logs.push(`${level} ${message}`);
  const logger: Logger = { trace: record('trace'), debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const keeper = new TokenKeeper({
    clock,
    logger,
    refreshBeforeMs: () => window.ms,
    refresh: (id) => {
      calls.push({ id, at: clock.now() });
      return refresh(id, clock);
    },
    onDidChangeState: (id, state) => void changes.push({ id, at: clock.now(), state }),
    ...options,
  });
  return { clock, keeper, calls, changes, logs, window };
}

/** A refresh that succeeds with a token of the given lifetime. */
export function succeedsFor(lifetimeMs: number) {
  return async (_id: string, clock: FakeClock): Promise<RefreshOutcome> => ({ expiresOn: new Date(clock.now() + lifetimeMs) });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
