// The small pieces every HTTPS client of the core shares (the identity platform's through MSAL, Azure
// Resource Manager's): reading a bounded body, flattening headers, the error code of a failed socket, and
// which of those codes mean "the certificate is not trusted here" rather than "the host is down".
import type { IncomingMessage } from 'node:http';

/** No answer we read is larger: a bigger one is a wrong endpoint or a hostile one. */
export const maxResponseBytes = 4 * 1024 * 1024;

export function readBody(response: IncomingMessage, limit = maxResponseBytes): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        response.destroy(Object.assign(new Error('response too large'), { code: 'ERESPONSETOOLARGE' }));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
  });
}

export function headerDictionary(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : 'network error';
}

/** Node's TLS verification failures: the host answered, but with a certificate no trusted CA vouches for. */
const untrustedCertificateCodes: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isUntrustedCertificate(code: string): boolean {
  return untrustedCertificateCodes.has(code);
}
