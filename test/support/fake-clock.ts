// A Clock whose time moves only when a test says so. Like real timers, pending timers count time the
// machine was awake: advance() moves both the wall clock and the timers, jump() (a suspend) only the wall clock.
import type { Clock, Disposable } from '../../src/core/ports';

interface PendingTimer {
  dueAt: number;
  order: number;
  callback: () => void;
}

/** Lets every promise continuation that is already possible run, so async work between timers completes. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private current: number;
  private created = 0;
  private readonly timers = new Map<number, PendingTimer>();

  constructor(start = Date.UTC(2025, 0, 6, 9, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): Disposable {
    const order = ++this.created;
    this.timers.set(order, { dueAt: this.current + Math.max(0, delayMs), order, callback });
    return { dispose: () => void this.timers.delete(order) };
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Runs every timer that falls due within `ms`, in due order, each at its own time, settling promises after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.timers.delete(next.order);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await settle();
    }
    this.current = Math.max(this.current, target);
  }

  /** The wall clock leaps (the machine slept); timers keep their remaining delay, as monotonic timers do. */
  jump(ms: number): void {
    this.current += ms;
    for (const timer of this.timers.values()) timer.dueAt += ms;
  }

  /** Resolves after `ms` of fake time; lets fakes of slow operations take time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  private earliestDue(limit: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.dueAt > limit) continue;
      if (!earliest || timer.dueAt < earliest.dueAt || (timer.dueAt === earliest.dueAt && timer.order < earliest.order)) earliest = timer;
    }
    return earliest;
  }
}
