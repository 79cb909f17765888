// Completes the device-login pages over HTTPS the way a browser does (GET the form, POST the code, POST the
// choice), so an approval in a test exercises the same pages and state changes a person would.
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface PageTrust {
  /** CA certificate (PEM) to verify the server with. */
  ca?: string;
  /** Without a CA, the server's own certificate fingerprint (SHA-256) is pinned instead. */
  pinnedFingerprint256?: string;
}

interface PageResponse {
  status: number;
  html: string;
}

function fetchPage(url: string, trust: PageTrust, form?: Record<string, string>): Promise<PageResponse> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: form ? 'POST' : 'GET',
        agent: false,
        ca: trust.ca,
        rejectUnauthorized: trust.ca !== undefined,
        headers: {
          accept: 'text/html',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        if (trust.ca === undefined) {
          const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256;
          if (fingerprint !== trust.pinnedFingerprint256) {
            res.destroy();
            reject(new Error(`the device-login page at ${url} presented an unexpected certificate`));
            return;
          }
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, html: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const decodeEntities = (text: string): string => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

function pageError(html: string): string {
  const match = /data-error="true">([^<]*)</.exec(html);
  return match ? decodeEntities(match[1] ?? '') : 'the page did not say why';
}

function inputValues(html: string, name: string): string[] {
  const pattern = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`, 'g');
  return [...html.matchAll(pattern)].map((match) => decodeEntities(match[1] ?? ''));
}

export async function driveDeviceLogin(
  deviceLoginUrl: string,
  trust: PageTrust,
  userCode: string,
  username: string,
  decision: 'approve' | 'decline',
): Promise<void> {
  const entry = await fetchPage(deviceLoginUrl, trust);
  if (entry.status !== 200 || !/<input[^>]*name="otc"/.test(entry.html)) {
    throw new Error(`device-login page answered ${entry.status} without a code form`);
  }
  const account = await fetchPage(deviceLoginUrl, trust, { otc: userCode });
  if (account.status !== 200) throw new Error(`device login rejected code ${userCode}: ${pageError(account.html)}`);
  const offered = inputValues(account.html, 'username');
  if (!offered.includes(username)) {
    throw new Error(`device login does not offer ${username} for code ${userCode} (offers ${offered.join(', ') || 'nobody'})`);
  }
  const [otc] = inputValues(account.html, 'otc');
  const done = await fetchPage(`${deviceLoginUrl}/decide`, trust, { otc: otc ?? userCode, username, decision });
  const expectedOutcome = decision === 'approve' ? 'approved' : 'declined';
  if (done.status !== 200 || !done.html.includes(`data-outcome="${expectedOutcome}"`)) {
    throw new Error(`device login did not record the ${decision} for code ${userCode}: ${pageError(done.html)}`);
  }
}
