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
  /** A server certificate for 127.0.0.1 and localhost, signed by this CA. */
  serverCertificate: ServerCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates (or reuses, when `dir` already holds one) a CA and a loopback server certificate in `dir`. */
export function createTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const caPath = join(dir, 'ca.crt');
  if (!existsSync(join(dir, 'server.crt'))) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    openssl(
      [
        'req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=AKS Sign-In test CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
    openssl(['req', '-new', '-key', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    writeFileSync(
      join(dir, 'server.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'server.ext'],
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
