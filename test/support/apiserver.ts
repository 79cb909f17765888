// A Kubernetes API server double over HTTPS on loopback: just enough discovery and one list for real
// kubectl binaries (1.20 through 1.33) to run `get namespaces` and `version`, and bearer-token
// authentication the way an AKS API server does it — an Entra ID JWT verified against the identity
// platform's signing keys and audience — so kubectl tests prove which token kubectl actually sent.
import { createHash, KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { ServerCertificate } from './tls';
import { verifyJwt } from './jwt';

export interface ApiServerOptions {
  tls: ServerCertificate;
  /** Asked on every request, so a test can rotate or withdraw keys while the server runs. */
  trustedKeys: () => Map<string, KeyObject> | Promise<Map<string, KeyObject>>;
  /** Accepted `aud` values; AKS accepts the server app id (and `spn:<id>` for v1 tokens). */
  audiences: string[];
  port?: number;
}

export interface ApiServerRequest {
  path: string;
  status: number;
  /** `upn` (or `oid` when there is no upn) of a verified token. */
  subject?: string;
  /** Why authentication failed, for 401s. */
  authFailure?: string;
  /** sha256 (hex) of the bearer token, so tests can tell which token arrived without keeping it. */
  tokenSha256?: string;
}

export interface ApiServer {
  url: string;
  requests: ApiServerRequest[];
  close(): Promise<void>;
}

export const SERVER_GIT_VERSION = 'v1.30.6';

export const NAMESPACES = ['default', 'kube-system', 'aks-signin-test'] as const;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const startedAt = new Date(Date.now() - 3 * 24 * 3600 * 1000);

function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '30',
    gitVersion: SERVER_GIT_VERSION,
    gitCommit: '2d39e21ad1cd9df0a9a4b0ec8a1a0c3e00d6bd6c',
    gitTreeState: 'clean',
    buildDate: '2024-10-22T20:28:11Z',
    goVersion: 'go1.22.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function namespaceObject(name: string, index: number): Record<string, unknown> {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name,
      uid: `00000000-0000-4000-8000-00000000000${index}`,
      resourceVersion: String(100 + index),
      creationTimestamp: startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: { 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function age(since: Date): string {
  const seconds = Math.max(0, Math.floor((Date.now() - since.getTime()) / 1000));
  if (seconds >= 2 * 86400) return `${Math.floor(seconds / 86400)}d`;
  if (seconds >= 2 * 3600) return `${Math.floor(seconds / 3600)}h`;
  if (seconds >= 120) return `${Math.floor(seconds / 60)}m`;
  return `${seconds}s`;
}

function namespaceList(): Record<string, unknown> {
  return {
    kind: 'NamespaceList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '200' },
    items: NAMESPACES.map(namespaceObject),
  };
}

/** The server-side printing kubectl asks for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. */
function namespaceTable(tableVersion: 'v1' | 'v1beta1'): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${tableVersion}`,
    metadata: { resourceVersion: '200' },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Status', type: 'string', format: '', description: 'The status of the namespace', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp of the object.', priority: 0 },
    ],
    rows: NAMESPACES.map((name, index) => {
      const full = namespaceObject(name, index);
      return {
        cells: [name, 'Active', age(startedAt)],
        object: { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: full.metadata },
      };
    }),
  };
}

const coreResources = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ns'],
      storageVersionHash: 'Q3oi5N2YM8M=',
    },
    { name: 'namespaces/status', singularName: '', namespaced: false, kind: 'Namespace', verbs: ['get', 'patch', 'update'] },
  ],
};

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * Which Table version the client accepts, if any. kubectl lists alternatives by preference, ending with
 * plain `application/json` as the fallback.
 */
function acceptedTableVersion(accept: string): 'v1' | 'v1beta1' | undefined {
  for (const alternative of accept.split(',')) {
    const params = new Map(
      alternative
        .split(';')
        .slice(1)
        .map((param) => param.trim().split('=') as [string, string]),
    );
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') {
      const version = params.get('v');
      if (version === 'v1' || version === 'v1beta1') return version;
    }
  }
  return undefined;
}

type Authentication = { ok: true; subject: string; tokenSha256: string } | { ok: false; reason: string; tokenSha256?: string };

async function authenticate(request: IncomingMessage, options: ApiServerOptions): Promise<Authentication> {
  const header = request.headers.authorization;
  if (!header) return { ok: false, reason: 'no Authorization header' };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { ok: false, reason: 'not a bearer token' };
  const token = match[1] as string;
  const tokenSha256 = sha256Hex(token);
  const verification = verifyJwt(token, await options.trustedKeys());
  if (!verification.ok) return { ok: false, reason: verification.reason, tokenSha256 };
  const { aud, upn, oid } = verification.claims;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((value) => typeof value === 'string' && options.audiences.includes(value))) {
    return { ok: false, reason: 'wrong audience', tokenSha256 };
  }
  const subject = typeof upn === 'string' ? upn : typeof oid === 'string' ? oid : undefined;
  if (!subject) return { ok: false, reason: 'token names no subject', tokenSha256 };
  return { ok: true, subject, tokenSha256 };
}

function route(path: string, accept: string): { status: number; body: Record<string, unknown> } {
  switch (path) {
    case '/version':
      return { status: 200, body: versionInfo() };
    // Newer kubectl first asks for aggregated discovery (apidiscovery.k8s.io/v2); a plain
    // APIVersions / APIGroupList with Content-Type application/json tells it to fall back.
    case '/api':
      return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    case '/apis':
      return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [] } };
    case '/api/v1':
      return { status: 200, body: coreResources };
    case '/api/v1/namespaces': {
      const tableVersion = acceptedTableVersion(accept);
      return { status: 200, body: tableVersion ? namespaceTable(tableVersion) : namespaceList() };
    }
    default: {
      const namespace = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
      if (namespace) {
        const index = NAMESPACES.indexOf(namespace[1] as (typeof NAMESPACES)[number]);
        if (index >= 0) return { status: 200, body: namespaceObject(NAMESPACES[index] as string, index) };
        return { status: 404, body: status(404, 'NotFound', `namespaces "${namespace[1]}" not found`) };
      }
      return { status: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
    }
  }
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const requests: ApiServerRequest[] = [];

  const send = (response: ServerResponse, statusCode: number, body: Record<string, unknown>): void => {
    const text = JSON.stringify(body);
    response.writeHead(statusCode, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname;
    const authentication = await authenticate(request, options);
    if (!authentication.ok) {
      requests.push({ path, status: 401, authFailure: authentication.reason, tokenSha256: authentication.tokenSha256 });
      send(response, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (request.method !== 'GET') {
      requests.push({ path, status: 405, subject: authentication.subject, tokenSha256: authentication.tokenSha256 });
      send(response, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
      return;
    }
    const { status: statusCode, body } = route(path, request.headers.accept ?? '');
    requests.push({ path, status: statusCode, subject: authentication.subject, tokenSha256: authentication.tokenSha256 });
    send(response, statusCode, body);
  };

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) send(response, 500, status(500, 'InternalError', message));
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
