// One HTTPS exchange on Node's `https` module rather than fetch: VS Code patches `https` for proxies and the
// system certificate store, and fetch would bypass that. Knows nothing of ARM; the client decides what an
// answer means.
import * as https from 'node:https';
import type { SecureContext } from 'node:tls';
import { errorCode, headerDictionary, readBody } from '../https';

export interface HttpsAnswer {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

export interface HttpsExchange {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /**
   * Extra trust (tests), with the agent that pools its connections. Undefined keeps Node's defaults, which
   * VS Code patches for proxies and the system store.
   */
  trust?: { secureContext: SecureContext; agent: https.Agent };
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A request that got no answer; `code` is Node's (`ECONNREFUSED`, `ETIMEDOUT`, a TLS verification code, …) or `ABORTED`. */
export class TransportError extends Error {
  constructor(readonly code: string) {
    super(`HTTPS request failed: ${code}`);
    this.name = 'TransportError';
  }
}

const maxResponseBytes = 16 * 1024 * 1024;

export function sendHttps(exchange: HttpsExchange): Promise<HttpsAnswer> {
  const headers: Record<string, string> = { ...exchange.headers };
  // ARM answers 411 to a POST without a length, and Node would otherwise send it chunked.
  if (exchange.method === 'POST' || exchange.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(exchange.body ?? ''));

  return new Promise<HttpsAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      exchange.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (code: string): void => finish(() => reject(new TransportError(code)));
    const onAbort = (): void => {
      fail('ABORTED');
      request.destroy();
    };

    const request = https.request(exchange.url, { method: exchange.method, headers, ...(exchange.trust ?? {}) }, (response) => {
      readBody(response, maxResponseBytes).then(
        (body) => finish(() => resolve({ status: response.statusCode ?? 0, headers: headerDictionary(response), body })),
        (error: unknown) => fail(errorCode(error)),
      );
    });
    request.setTimeout(exchange.timeoutMs, () => {
      fail('ETIMEDOUT');
      request.destroy();
    });
    request.on('error', (error) => fail(errorCode(error)));
    if (exchange.signal?.aborted) {
      onAbort();
      return;
    }
    exchange.signal?.addEventListener('abort', onAbort, { once: true });
    request.end(exchange.body);
  });
}



