// Keeps each signed-in identity's token current: one timer per identity, refreshing a little before the
// window the user chose, backing off on transient faults and stopping when only a new sign-in can help.
// It never sees a token: `refresh` does the work and reports only the new expiry.
import type { Clock, Disposable, Logger } from '../ports';
import { healsByItself, type Remedy } from '../remedy';
import { type Backoff, backoffDelayMs, defaultBackoff, freeSlot, idFraction } from './schedule';

export type KeeperState =
  | { kind: 'fresh'; expiresOn: Date; refreshAt: Date }
  | { kind: 'refreshing'; expiresOn: Date }
  | { kind: 'retrying'; expiresOn: Date; attempt: number; nextAttemptAt: Date; reason: string; remedy: Remedy }
  | { kind: 'needsSignIn'; reason: string; remedy: Remedy }
  | { kind: 'expired'; expiresOn: Date; reason?: string; attempt?: number; nextAttemptAt?: Date; remedy?: Remedy };

/**
 * What a refresh achieved: a token valid until `expiresOn` (refreshed here, or adopted from another window
 * that refreshed it), or nothing yet because someone else is refreshing it: look again at `deferredUntil`.
 */
export type RefreshOutcome = { expiresOn: Date } | { deferredUntil: Date; reason: string };

/** What a refresh was started for: the expiry the keeper planned it on. */
export interface PlannedRefresh {
  expiresOn: Date;
}

export class RefreshFailure extends Error {
  constructor(
    message: string,
    readonly remedy: Remedy,
  ) {
    super(message);
    this.name = 'RefreshFailure';
  }
}

export interface KeeperOptions {
  clock: Clock;
  logger: Logger;
  /** Read at every scheduling decision, so a changed setting takes effect without re-tracking. */
  refreshBeforeMs: () => number;
  /** Refreshes the token and writes the kubeconfig. Throws RefreshFailure; anything else counts as transient. */
  refresh: (id: string, planned: PlannedRefresh) => Promise<RefreshOutcome>;
  onDidChangeState?: (id: string, state: KeeperState) => void;
  /** Default 5 s doubling to 5 min, each wait shortened at random by up to half. */
  backoff?: Backoff;
  /**
   * Default 60 s. Timers never sleep longer: timers count time the machine was awake, so after a suspend
   * the next wake-up checks the wall clock and refreshes at once when overdue.
   */
  maxTimerMs?: number;
  /** How much earlier than its window an identity may be planned, fixed per id. Default 60 s. */
  spreadMs?: number;
  /** Planned refreshes of different identities start at least this far apart when time allows. Default 1 s. */
  minSpacingMs?: number;
  /**
   * Default 60 s. After a successful refresh the next one waits at least this long (or half the new token's
   * lifetime, if shorter), so a window as long as the token's lifetime cannot turn into a refresh loop.
   */
  minRefreshIntervalMs?: number;
  /** Source of the backoff jitter; default Math.random. */
  random?: () => number;
}

interface Entry {
  readonly id: string;
  expiresOn: Date;
  /** Bumped by track(): an outcome of a refresh started before it no longer decides the schedule. */
  generation: number;
  /** How far before the window's start the refresh is planned: the per-id spread plus any shift to a free slot. */
  leadMs: number;
  notBefore: number;
  attempt: number;
  /** Set while a transient failure is being retried, or while another refresher is at work. */
  retryAt?: number;
  /** Whether retryAt is a failure's backoff (false: waiting for another window's refresh). */
  failing: boolean;
  reason?: string;
  remedy?: Remedy;
  needsSignIn: boolean;
  timer?: Disposable;
  state?: KeeperState;
}

type Settlement = { outcome: RefreshOutcome } | { error: unknown };

export class TokenKeeper implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly backoff: Backoff;
  private readonly maxTimerMs: number;
  private readonly spreadMs: number;
  private readonly minSpacingMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly random: () => number;
  private disposed = false;

  constructor(private readonly options: KeeperOptions) {
    this.backoff = options.backoff ?? defaultBackoff;
    this.maxTimerMs = Math.max(1, options.maxTimerMs ?? 60_000);
    this.spreadMs = Math.max(0, options.spreadMs ?? 60_000);
    this.minSpacingMs = Math.max(0, options.minSpacingMs ?? 1_000);
    this.minRefreshIntervalMs = Math.max(0, options.minRefreshIntervalMs ?? 60_000);
    this.random = options.random ?? Math.random;
  }

  track(id: string, expiresOn: Date): void {
    if (this.disposed) throw new Error('The token keeper has been disposed.');
    if (!(expiresOn instanceof Date) || Number.isNaN(expiresOn.getTime())) {
      throw new TypeError(`Cannot keep ${id}: its expiry is not a valid date.`);
    }
    let entry = this.entries.get(id);
    if (entry) {
      entry.timer?.dispose();
      entry.timer = undefined;
      entry.generation++;
      entry.expiresOn = expiresOn;
    } else {
      entry = { id, expiresOn, generation: 0, leadMs: 0, notBefore: 0, attempt: 0, failing: false, needsSignIn: false };
      this.entries.set(id, entry);
    }
    entry.notBefore = 0;
    entry.attempt = 0;
    entry.retryAt = undefined;
    entry.failing = false;
    entry.reason = undefined;
    entry.remedy = undefined;
    entry.needsSignIn = false;
    entry.leadMs = this.planLead(entry);
    this.arm(entry);
    this.options.logger.debug(`Keeping ${id}: token valid until ${expiresOn.toISOString()}.`);
  }

  untrack(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.timer?.dispose();
    this.entries.delete(id);
  }

  /**
   * Refreshes one identity, or all; joins a refresh already running. Resolves when done, whatever the outcome
   * (read state() for it). Also tries an identity that needs sign-in: the user may have fixed it elsewhere.
   */
  async refreshNow(id?: string): Promise<void> {
    const ids = id === undefined ? [...this.entries.keys()] : [id];
    await Promise.all(ids.map((each) => this.startRefresh(each)));
  }

  /** Applies a changed refresh window now instead of at the next timer wake-up (at most maxTimerMs away). */
  reschedule(): void {
    for (const entry of this.entries.values()) this.arm(entry);
  }

  state(id: string): KeeperState | undefined {
    return this.entries.get(id)?.state;
  }

  /** Whether the identity is kept here. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The ids whose last refresh failed for a reason that heals by itself (a file being fixed, a network back). */
  waitingToHeal(): string[] {
    return [...this.entries.values()].filter((entry) => entry.failing && entry.remedy !== undefined && healsByItself(entry.remedy)).map((entry) => entry.id);
  }

  states(): Map<string, KeeperState> {
    const result = new Map<string, KeeperState>();
    for (const [id, entry] of this.entries) if (entry.state) result.set(id, entry.state);
    return result;
  }

  dispose(): void {
    this.disposed = true;
    for (const entry of this.entries.values()) entry.timer?.dispose();
    this.entries.clear();
  }

  private refreshBeforeMs(): number {
    const value = this.options.refreshBeforeMs();
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  private dueAt(entry: Entry): number {
    if (entry.retryAt !== undefined) return entry.retryAt;
    const planned = entry.expiresOn.getTime() - this.refreshBeforeMs() - entry.leadMs;
    return Math.max(planned, entry.notBefore);
  }

  /** Picks this identity's place before its window: its own spread, moved clear of the others' plans. */
  private planLead(entry: Entry): number {
    const windowStart = entry.expiresOn.getTime() - this.refreshBeforeMs();
    const wanted = windowStart - Math.floor(idFraction(entry.id) * this.spreadMs);
    const planned: number[] = [];
    for (const other of this.entries.values()) {
      if (other !== entry && other.timer !== undefined) planned.push(this.dueAt(other));
    }
    const slot = freeSlot(wanted, planned, this.minSpacingMs, this.options.clock.now(), windowStart);
    return windowStart - (slot ?? wanted);
  }

  /** Decides what this identity waits for next; starts the refresh when it is due. */
  private arm(entry: Entry): void {
    entry.timer?.dispose();
    entry.timer = undefined;
    if (this.disposed || entry.needsSignIn || this.inFlight.has(entry.id)) return;
    const now = this.options.clock.now();
    const due = this.dueAt(entry);
    if (now >= due) {
      void this.startRefresh(entry.id);
      return;
    }
    const expiresAt = entry.expiresOn.getTime();
    const expiresOn = entry.expiresOn;
    if (entry.retryAt !== undefined && entry.failing) {
      const reason = entry.reason ?? 'unknown failure';
      const remedy = entry.remedy ?? { kind: 'wait' };
      const nextAttemptAt = new Date(entry.retryAt);
      this.setState(
        entry,
        now >= expiresAt
          ? { kind: 'expired', expiresOn, reason, attempt: entry.attempt, nextAttemptAt, remedy }
          : { kind: 'retrying', expiresOn, attempt: entry.attempt, nextAttemptAt, reason, remedy },
      );
    } else {
      // Expired while another refresher was awaited: say why nothing was refreshed here.
      const waitingFor = entry.retryAt !== undefined && entry.reason !== undefined ? { reason: entry.reason } : {};
      this.setState(entry, now >= expiresAt ? { kind: 'expired', expiresOn, ...waitingFor } : { kind: 'fresh', expiresOn, refreshAt: new Date(due) });
    }
    // Waking at expiry too lets the state turn 'expired' on time while a retry is still far off.
    const wakeAt = now < expiresAt ? Math.min(due, expiresAt) : due;
    entry.timer = this.options.clock.setTimeout(() => {
      entry.timer = undefined;
      this.arm(entry);
    }, Math.min(wakeAt - now, this.maxTimerMs));
  }

  private startRefresh(id: string): Promise<void> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const entry = this.entries.get(id);
    if (!entry || this.disposed) return Promise.resolve();
    entry.timer?.dispose();
    entry.timer = undefined;
    const planned = entry.expiresOn;
    const generation = entry.generation;
    this.setState(entry, { kind: 'refreshing', expiresOn: entry.expiresOn });
    this.options.logger.debug(`Refreshing ${id} (token valid until ${entry.expiresOn.toISOString()}).`);
    // Deferred by a microtask so the refresh is registered as running before `refresh` is even called.
    const run = Promise.resolve()
      .then(() => this.options.refresh(id, { expiresOn: planned }))
      .then(
        (outcome): Settlement => ({ outcome }),
        (error: unknown): Settlement => ({ error }),
      )
      .then((settlement) => {
        this.inFlight.delete(id);
        this.settle(entry, generation, settlement);
      });
    this.inFlight.set(id, run);
    return run;
  }

  private settle(entry: Entry, generation: number, settlement: Settlement): void {
    if (this.disposed) return;
    const current = this.entries.get(entry.id);
    if (current !== entry || entry.generation !== generation) {
      // Untracked or re-tracked while this refresh ran: the newer schedule stands.
      if (current) this.arm(current);
      return;
    }
    const now = this.options.clock.now();
    if ('outcome' in settlement) {
      const outcome = settlement.outcome;
      if (outcome !== undefined && 'deferredUntil' in outcome) {
        this.deferred(entry, outcome.deferredUntil, outcome.reason, now);
        return;
      }
      const expiresOn = outcome?.expiresOn;
      if (expiresOn instanceof Date && expiresOn.getTime() > now) {
        this.succeeded(entry, expiresOn, now);
        return;
      }
      this.failed(entry, new RefreshFailure('The refresh did not return a future expiry.', { kind: 'wait' }), now);
      return;
    }
    this.failed(entry, settlement.error, now);
  }

  /** Someone else refreshes this identity now: no failure, no backoff, just a look again later. */
  private deferred(entry: Entry, until: Date, reason: string, now: number): void {
    entry.retryAt = Math.max(until.getTime(), now + 1);
    entry.failing = false;
    entry.reason = `not refreshed in this window: ${reason}`;
    this.options.logger.debug(`Not refreshing ${entry.id} here: ${reason}; looking again at ${until.toISOString()}.`);
    this.arm(entry);
  }

  private succeeded(entry: Entry, expiresOn: Date, now: number): void {
    entry.expiresOn = expiresOn;
    entry.attempt = 0;
    entry.retryAt = undefined;
    entry.failing = false;
    entry.reason = undefined;
    entry.remedy = undefined;
    entry.needsSignIn = false;
    entry.notBefore = now + Math.min(this.minRefreshIntervalMs, (expiresOn.getTime() - now) / 2);
    entry.leadMs = this.planLead(entry);
    this.arm(entry);
    const next = entry.state?.kind === 'fresh' ? `; next refresh ${entry.state.refreshAt.toISOString()}` : '';
    this.options.logger.info(`Refreshed ${entry.id}: token valid until ${expiresOn.toISOString()}${next}.`);
  }

  private failed(entry: Entry, error: unknown, now: number): void {
    const remedy: Remedy = error instanceof RefreshFailure ? error.remedy : { kind: 'wait' };
    const reason = error instanceof Error ? error.message : String(error);
    entry.reason = reason;
    entry.remedy = remedy;
    if (!healsByItself(remedy)) {
      entry.needsSignIn = true;
      entry.retryAt = undefined;
      entry.failing = false;
      this.setState(entry, { kind: 'needsSignIn', reason, remedy });
      this.options.logger.warn(`${entry.id} needs a person: ${reason}`);
      return;
    }
    entry.needsSignIn = false;
    entry.failing = true;
    entry.attempt++;
    // The platform's Retry-After is a floor: retrying sooner only earns another refusal.
    const retryAfterMs = remedy.kind === 'wait' ? (remedy.retryAfterMs ?? 0) : 0;
    const delayMs = Math.max(backoffDelayMs(entry.attempt, this.backoff, this.random), retryAfterMs);
    entry.retryAt = now + delayMs;
    this.options.logger.warn(`Refreshing ${entry.id} failed (attempt ${entry.attempt}): ${reason} (retrying in ${Math.ceil(delayMs / 1000)} s)`);
    this.arm(entry);
  }

  private setState(entry: Entry, state: KeeperState): void {
    if (entry.state && JSON.stringify(entry.state) === JSON.stringify(state)) return;
    entry.state = state;
    try {
      this.options.onDidChangeState?.(entry.id, state);
    } catch (error) {
      // A faulty listener must not stop the keeping.
      this.options.logger.error(`A state listener failed for ${entry.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
