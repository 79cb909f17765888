// RS256 JSON Web Tokens with Node's crypto: the identity platform double signs with these, the API
// server double verifies with them.
import { createPublicKey, createSign, createVerify, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

const base64url = (input: Buffer | string): string => Buffer.from(input).toString('base64url');

export function signJwt(payload: Record<string, unknown>, key: SigningKey): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid }));
  const body = base64url(JSON.stringify(payload));
  const signature = createSign('RSA-SHA256').update(`${header}.${body}`).sign(key.privateKey);
  return `${header}.${body}.${base64url(signature)}`;
}

/** The JWKS document (`{keys: [...]}`) that publishes these keys. */
export function jwks(keys: SigningKey[]): { keys: Record<string, unknown>[] } {
  return {
    keys: keys.map((key) => ({ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: 'RS256' })),
  };
}

export function publicKeyFromJwk(jwk: Record<string, unknown>): KeyObject {
  return createPublicKey({ key: jwk as never, format: 'jwk' });
}

export type JwtVerification =
  | { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { ok: false; reason: string };

/** Verifies signature (against the key whose kid matches) and `exp`/`nbf` against `nowSeconds`. */
export function verifyJwt(token: string, keys: Map<string, KeyObject>, nowSeconds = Date.now() / 1000): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  const [headerPart, bodyPart, signaturePart] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(bodyPart, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'undecodable JWT' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: `unsupported alg ${String(header.alg)}` };
  const key = keys.get(String(header.kid));
  if (!key) return { ok: false, reason: 'unknown signing key' };
  const valid = createVerify('RSA-SHA256').update(`${headerPart}.${bodyPart}`).verify(key, Buffer.from(signaturePart, 'base64url'));
  if (!valid) return { ok: false, reason: 'bad signature' };
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return { ok: false, reason: 'token expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 60) return { ok: false, reason: 'token not yet valid' };
  return { ok: true, header, claims };
}
