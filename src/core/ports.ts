// The ports through which the core reaches the outside world. The VS Code layer implements them with
// SecretStorage, a LogOutputChannel and real timers; tests implement them with in-memory fakes.

export interface Disposable {
  dispose(): void;
}

/** Where secrets live (VS Code's SecretStorage in the extension). */
export interface SecretStore {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Fires with the key whenever a secret changes, also when another window changed it. */
  onDidChange(listener: (key: string) => void): Disposable;
}

/** Log lines must never carry a token; the VS Code adapter redacts JWT-shaped strings as a second line of defence. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface Clock {
  /** Wall-clock time in epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): Disposable;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    // A schedule alone never keeps a process alive: the host (or a server) decides how long it runs.
    const handle = setTimeout(callback, delayMs).unref();
    return { dispose: () => clearTimeout(handle) };
  },
};

export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** What the user must see while a device-code sign-in runs. */
export interface DeviceCodeInfo {
  userCode: string;
  verificationUri: string;
  expiresOn: Date;
  /** The identity platform's own instruction text. */
  message: string;
}

export interface DeviceCodePrompt {
  /** Called once the code is known; the flow then polls until approval, cancellation or expiry. */
  show(info: DeviceCodeInfo): void;
}
