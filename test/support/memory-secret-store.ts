// SecretStorage as VS Code behaves: values by key, and a change event for every store or delete, also for the
// writer's own changes. Two engines over one instance behave like two windows sharing a profile.
import type { Disposable, SecretStore } from '../../src/core/ports';

export interface SecretStoreOperation {
  kind: 'get' | 'store' | 'delete';
  key: string;
}

export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  /** Every call in order, so tests can check what was read and written. */
  readonly operations: SecretStoreOperation[] = [];
  private readonly listeners = new Set<(key: string) => void>();

  async get(key: string): Promise<string | undefined> {
    this.operations.push({ kind: 'get', key });
    return this.values.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    this.operations.push({ kind: 'store', key });
    this.values.set(key, value);
    this.fire(key);
  }

  async delete(key: string): Promise<void> {
    this.operations.push({ kind: 'delete', key });
    const existed = this.values.delete(key);
    if (existed) this.fire(key);
  }

  onDidChange(listener: (key: string) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  writes(key?: string): number {
    return this.operations.filter((operation) => operation.kind === 'store' && (key === undefined || operation.key === key)).length;
  }

  private fire(key: string): void {
    for (const listener of [...this.listeners]) listener(key);
  }
}
