// At most N tasks at once, first come first served, so a walk over fifty subscriptions never opens fifty
// connections to ARM (which throttles per account) and the first subscriptions asked are the first answered.

export class Limiter {
  private running = 0;
  private readonly waiting: Array<{ start: () => void }> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal, aborted?: () => unknown): Promise<T> {
    await this.acquire(signal, aborted);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined, aborted: (() => unknown) | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(aborted?.() ?? signal.reason);
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running++;
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(aborted?.() ?? signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.start();
  }
}

/** Resolves after `ms`, or rejects with `aborted()` as soon as the signal fires. */
export function abortableDelay(ms: number, signal: AbortSignal | undefined, aborted: () => unknown): Promise<void> {
  if (signal?.aborted) return Promise.reject(aborted());
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
