// MSAL's HTTP transport, on Node's `https` module rather than fetch: VS Code patches `https` for proxies and
// the system certificate store, and fetch would bypass that. It also remembers what actually went wrong on
// the wire, because MSAL reduces most failures to a terse code that no longer says why.
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { errorCode, headerDictionary, readBody } from '../https';

/** What the identity platform or the network last said when something failed. Never holds a token. */
export type TransportFailure =
  | { type: 'transport'; host: string; code: string }
  | { type: 'timeout'; host: string }
  | { type: 'malformed'; host: string; status: number }
  | {
      type: 'http';
      host: string;
      status: number;
      error?: string;
      errorCodes: number[];
      retryAfterSeconds?: number;
    };

export interface HttpsNetworkClientOptions {
  /** Extra trusted CA certificates; undefined keeps Node's (and VS Code's) defaults untouched. */
  ca?: string[];
  requestTimeoutMs: number;
}

export class HttpsNetworkClient implements INetworkModule {
  private readonly ca: string[] | undefined;
  private readonly requestTimeoutMs: number;
  /** Failures seen since the last `takeFailures`; calls on one client are sequenced, so these belong to one operation. */
  private failures: TransportFailure[] = [];

  constructor(options: HttpsNetworkClientOptions) {
    // A custom `ca` replaces Node's list entirely, so real hosts would stop verifying without the roots.
    this.ca = options.ca && options.ca.length > 0 ? [...rootCertificates, ...options.ca] : undefined;
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  takeFailures(): TransportFailure[] {
    const failures = this.failures;
    this.failures = [];
    return failures;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const timeoutMs = timeout && timeout > 0 ? Math.min(timeout, this.requestTimeoutMs) : this.requestTimeoutMs;
    return this.send<T>('GET', url, options, timeoutMs);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, this.requestTimeoutMs);
  }

  private send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeoutMs: number): Promise<NetworkResponse<T>> {
    const host = new URL(url).host;
    const body = method === 'POST' ? (options?.body ?? '') : undefined;
    const headers: Record<string, string> = { ...(options?.headers ?? {}) };
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));

    return new Promise<NetworkResponse<T>>((resolve, reject) => {
      let settled = false;
      const fail = (failure: TransportFailure, message: string): void => {
        if (settled) return;
        settled = true;
        this.failures.push(failure);
        reject(new Error(message));
      };
      const request = https.request(url, { method, headers, ...(this.ca ? { ca: this.ca } : {}) }, (response) => {
        readBody(response)
          .then((text) => {
            if (settled) return;
            const status = response.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              fail({ type: 'malformed', host, status }, `${method} ${host} answered HTTP ${status} with a body that is not JSON`);
              return;
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              fail({ type: 'malformed', host, status }, `${method} ${host} answered HTTP ${status} with JSON that is not an object`);
              return;
            }
            const responseHeaders = headerDictionary(response);
            // authorization_pending is the normal answer while a device-code sign-in waits for the user.
            if (status >= 400 && (parsed as { error?: unknown }).error !== 'authorization_pending') this.failures.push(httpFailure(host, status, parsed as Record<string, unknown>, responseHeaders));
            settled = true;
            resolve({ status, headers: responseHeaders, body: parsed as T });
          })
          .catch((error: unknown) => fail(transportFailure(host, error), `${method} ${host} failed while reading the response`));
      });
      request.setTimeout(timeoutMs, () => {
        fail({ type: 'timeout', host }, `${method} ${host} timed out after ${timeoutMs} ms`);
        request.destroy();
      });
      request.on('error', (error) => fail(transportFailure(host, error), `${method} ${host} failed: ${errorCode(error)}`));
      request.end(body);
    });
  }
}




function transportFailure(host: string, error: unknown): TransportFailure {
  return { type: 'transport', host, code: errorCode(error) };
}

function httpFailure(host: string, status: number, body: Record<string, unknown>, headers: Record<string, string>): TransportFailure {
  const errorCodes = Array.isArray(body.error_codes) ? body.error_codes.filter((code): code is number => typeof code === 'number') : [];
  // Some responses name the AADSTS code only in the description.
  if (errorCodes.length === 0 && typeof body.error_description === 'string') {
    const match = /AADSTS(\d+)/.exec(body.error_description);
    if (match) errorCodes.push(Number(match[1]));
  }
  const retryAfter = Number(headers['retry-after']);
  return {
    type: 'http',
    host,
    status,
    ...(typeof body.error === 'string' ? { error: body.error } : {}),
    errorCodes,
    ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
}
