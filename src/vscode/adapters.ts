// VS Code implementations of the core's ports.
import * as vscode from 'vscode';
import type { Logger, SecretStore } from '../core/ports';
import { redactingLogger } from '../core/redact';

/** Log lines go to the "AKS Sign-In" LogOutputChannel, whose level follows "Developer: Set Log Level". */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return redactingLogger({
    trace: (message) => channel.trace(message),
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  });
}

export function secretStorageStore(secrets: vscode.SecretStorage): SecretStore {
  return {
    get: async (key) => secrets.get(key),
    store: async (key, value) => secrets.store(key, value),
    delete: async (key) => secrets.delete(key),
    onDidChange: (listener) => secrets.onDidChange((event) => listener(event.key)),
  };
}
