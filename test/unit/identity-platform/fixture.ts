// A started identity platform with its own test CA, and a small HTTPS client that trusts that CA, so the
// protocol tests speak to it exactly as any other client would.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { createTestCa, type TestCa } from '../../support/tls';
import { startIdentityPlatform, type IdentityPlatform, type IdentityPlatformOptions } from '../../support/identity-platform';

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): Record<string, unknown>;
}

export interface Fixture {
  platform: IdentityPlatform;
  ca: TestCa;
  get(path: string): Promise<HttpsResult>;
  post(path: string, form: Record<string, string>): Promise<HttpsResult>;
  postJson(path: string, body: unknown): Promise<HttpsResult>;
  signingKeyMap(): Map<string, KeyObject>;
  close(): Promise<void>;
}

export function httpsRequest(url: string, caPem: string, method: string, body?: string, contentType?: string): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: caPem,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': contentType ?? 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function startFixture(options: Partial<IdentityPlatformOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const ca = createTestCa(dir);
  const platform = await startIdentityPlatform({ ...options, tls: { ...ca.serverCertificate, ca: ca.caPem } });
  platform.controls.pollIntervalSeconds = 1;
  return {
    platform,
    ca,
    get: (path) => httpsRequest(platform.url + path, ca.caPem, 'GET'),
    post: (path, form) => httpsRequest(platform.url + path, ca.caPem, 'POST', new URLSearchParams(form).toString()),
    postJson: (path, body) => httpsRequest(platform.url + path, ca.caPem, 'POST', JSON.stringify(body), 'application/json'),
    signingKeyMap: () => new Map(platform.signingKeys.map((key) => [key.kid, key.publicKey])),
    close: async () => {
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function decodeJwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** What the platform answered to MSAL with a status of 400 or more: the wire truth MSAL's errors may lose. */
export interface FailedExchange {
  url: string;
  status: number;
  body: Record<string, unknown>;
}

/** MSAL's network module over Node's https, trusting only the test CA; failed answers land in `failures`. */
export function caTrustingNetworkClient(caPem: string, failures: FailedExchange[] = []): INetworkModule {
  const send = <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, ca: caPem, agent: false, headers: options?.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
            const status = res.statusCode ?? 0;
            if (status >= 400) failures.push({ url, status, body: body as Record<string, unknown> });
            resolve({
              status,
              headers: Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, String(value)])),
              body,
            });
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('error', reject);
      req.end(options?.body);
    });
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
