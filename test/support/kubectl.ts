// Real kubectl binaries for tests, run the way a user's terminal would run them but isolated: a fresh
// HOME per run (kubectl caches discovery and tokens under ~/.kube), only the kubeconfig we name, and an
// empty PATH so an exec plugin installed on the developer's machine cannot answer for us.
// /usr/bin/kubectl is deliberately never used: on this kind of machine it is a dispatcher that picks a
// binary by the server's version and runs exec plugins twice per command.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from './repo-root';

export type KubectlVersion = '1.20' | '1.27' | '1.33';

export interface KubectlBinary {
  version: KubectlVersion;
  path: string;
}


const GCLOUD_BIN = '/usr/lib/google-cloud-sdk/bin';

function candidatePath(version: KubectlVersion): string {
  return version === '1.20' ? join(repoRoot(), '.vscode-test', 'kubectl-1.20', 'usr', 'bin', 'kubectl') : join(GCLOUD_BIN, `kubectl.${version}`);
}

/** How to get a binary that is missing, for skip messages and CI failures. */
export function howToGet(version: KubectlVersion): string {
  return version === '1.20'
    ? `kubectl 1.20 not found at ${candidatePath(version)}; run scripts/fetch-kubectl.sh (unpacks Debian's kubernetes-client package)`
    : `kubectl ${version} not found at ${candidatePath(version)}; it ships with the Google Cloud SDK's kubectl component`;
}

export const KUBECTL_VERSIONS: readonly KubectlVersion[] = ['1.20', '1.27', '1.33'];

/** The binaries present on this machine. */
export function kubectlBinaries(): KubectlBinary[] {
  return KUBECTL_VERSIONS.map((version) => ({ version, path: candidatePath(version) })).filter((binary) => existsSync(binary.path));
}

/**
 * The binary for `version`, or undefined after skipping the test with a message saying how to get it.
 * Under CI a missing binary fails the test instead: a green CI run must have exercised every kubectl.
 */
export function kubectlOrSkip(t: TestContext, version: KubectlVersion): string | undefined {
  const path = candidatePath(version);
  if (existsSync(path)) return path;
  if (process.env.CI) throw new Error(howToGet(version));
  t.skip(howToGet(version));
  return undefined;
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface RunKubectlOptions {
  kubeconfig: string;
  /** Added to the clean environment (HOME, KUBECONFIG, PATH are set unless given here). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs `binary args` asynchronously, so an API server double in this same process keeps answering. */
export function runKubectl(binary: string, args: string[], options: RunKubectlOptions): Promise<KubectlResult> {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const emptyBin = join(home, 'bin');
  mkdirSync(emptyBin);
  const env: Record<string, string> = { HOME: home, KUBECONFIG: options.kubeconfig, PATH: emptyBin, LANG: 'C.UTF-8', ...options.env };
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(binary, args, { env, timeout: options.timeoutMs ?? 20_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      rmSync(home, { recursive: true, force: true });
      const failure = error as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      const code = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), durationMs, timedOut: Boolean(failure?.killed) });
    });
  });
}

export interface EgressTrap {
  /** Proxy variables that route kubectl's outbound HTTP(S) through the trap (Go never proxies loopback). */
  env: Record<string, string>;
  /** `host:port` of every CONNECT and the URL of every plain request, in order. */
  attempts: string[];
  close(): Promise<void>;
}

/**
 * A forward proxy that refuses everything and writes down where kubectl tried to go. Without network the
 * attempts would fail anyway; this makes them visible (did kubectl try login.microsoftonline.com?) and
 * makes them fail at once instead of waiting on DNS.
 */
export async function startEgressTrap(): Promise<EgressTrap> {
  const attempts: string[] = [];
  const server: Server = createServer((request, response) => {
    attempts.push(request.url ?? '');
    response.writeHead(403, { 'Content-Type': 'text/plain' });
    response.end('egress refused by test proxy\n');
  });
  server.on('connect', (request, socket: Socket) => {
    attempts.push(request.url ?? '');
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, https_proxy: proxy, http_proxy: proxy },
    attempts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
