/** Runs tasks one after another; a failed task does not stop the ones queued behind it. */
export class Sequencer {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task).finally(() => {
      this.pending--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Whether a task is running or waiting. */
  get busy(): boolean {
    return this.pending > 0;
  }
}

/** One Sequencer per key, created on first use and dropped when its queue runs dry. */
export class KeyedSequencer {
  private readonly queues = new Map<string, Sequencer>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new Sequencer();
      this.queues.set(key, queue);
    }
    const owner = queue;
    return owner.run(task).finally(() => {
      if (!owner.busy && this.queues.get(key) === owner) this.queues.delete(key);
    });
  }
}
