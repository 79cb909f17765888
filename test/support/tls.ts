// A certificate authority made at test time, so every HTTPS peer on loopback (identity platform, API
// server) is verified for real instead of with verification turned off.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerCertificate {
  key: string;
  cert: string;
}

export interface TestCa {
  /** PEM of the CA certificate; give it to clients as `ca` or through NODE_EXTRA_CA_CERTS. */
  caPem: string;
  caPath: string;
  /** A server certificate for every address in `serverAddresses` and localhost, signed by this CA. */
  serverCertificate: ServerCertificate;
}

/**
 * The loopback addresses the server certificate names. 127.0.0.2 is where the identity platform serves for
 * host tests (code-server rewrites 127.0.0.1 URLs that an extension opens); ::1 for IPv6-only clients.
 */
export const serverAddresses = ['127.0.0.1', '127.0.0.2', '::1'] as const;

const lifetimeDays = 30;
/** A certificate this close to its end is made anew, so no run starts with one that expires mid-way. */
const renewWithinMs = 24 * 60 * 60 * 1000;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function readCertificate(path: string): X509Certificate | undefined {
  try {
    return new X509Certificate(readFileSync(path));
  } catch {
    return undefined;
  }
}

const usable = (certificate: X509Certificate) => new Date(certificate.validTo).getTime() - Date.now() > renewWithinMs;

/**
 * Whether the folder's server certificate can be reused: signed by its CA, not about to expire, and naming
 * every address a server may listen on (a folder from before 127.0.0.2 was added gets a new one).
 */
function serverCertificateFits(dir: string, ca: X509Certificate): boolean {
  const server = readCertificate(join(dir, 'server.crt'));
  if (!server || !existsSync(join(dir, 'server.key')) || !usable(server) || !server.checkIssued(ca) || !server.verify(ca.publicKey)) return false;
  return serverAddresses.every((address) => server.checkIP(address) !== undefined) && server.checkHost('localhost') !== undefined;
}

/** Creates (or reuses, when `dir` already holds fitting ones) a CA and a loopback server certificate in `dir`. */
export function createTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const caPath = join(dir, 'ca.crt');
  let ca = readCertificate(caPath);
  if (!ca || !existsSync(join(dir, 'ca.key')) || !usable(ca)) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    openssl(
      [
        'req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', String(lifetimeDays), '-subj', '/CN=AKS Sign-In test CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    ca = new X509Certificate(readFileSync(caPath));
  }
  // A server certificate is made anew under the same CA, so clients that already trust the CA keep working.
  if (!serverCertificateFits(dir, ca)) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
    openssl(['req', '-new', '-key', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    const names = [...serverAddresses.map((address) => `IP:${address}`), 'DNS:localhost'].join(',');
    writeFileSync(
      join(dir, 'server.ext'),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`,
    );
    openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', String(lifetimeDays), '-extfile', 'server.ext'],
      dir,
    );
  }
  return {
    caPem: readFileSync(caPath, 'utf8'),
    caPath,
    serverCertificate: {
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
      cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    },
  };
}

/** Base64 SHA-256 of a certificate's public key: what Chromium's --ignore-certificate-errors-spki-list pins. */
export function spkiSha256(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
