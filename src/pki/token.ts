import { createHash } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { KubeEdgeError } from '../core/errors.ts';
import type { KeyPairDer } from './x509.ts';

/**
 * KubeEdge join tokens (pkg/security/token): `<hex(SHA-256(CA cert DER))>.<JWT>`. The JWT is HS256 with the
 * raw CA private-key DER as HMAC secret and a single `exp` claim, so only holders of the CA key can mint one,
 * and the edge can pin the CA it downloads over an unverified connection by the hash in front.
 */

export class TokenError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_TOKEN', message, context, cause === undefined ? {} : { cause });
  }
}

export type JoinTokenParts = { caHash: string; jwt: string };

const HOUR_S = 3600;
// Go's golang-jwt accepts any HMAC method for KubeEdge tokens; we mint HS256 but verify the same family.
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];

export function caCertHash(certDer: Buffer): string {
  return createHash('sha256').update(certDer).digest('hex');
}

/** A new join token valid for 2 x refreshHours, as KubeEdge's token.Create does. */
export async function createJoinToken(ca: KeyPairDer, refreshHours: number, now: Date = new Date()): Promise<string> {
  if (!(refreshHours > 0)) throw new TokenError('tokenRefreshDuration must be a positive number of hours', { refreshHours });
  const exp = Math.floor(now.getTime() / 1000) + Math.round(2 * refreshHours * HOUR_S);
  const jwt = await new SignJWT({ exp }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new Uint8Array(ca.keyDer));
  return `${caCertHash(ca.certDer)}.${jwt}`;
}

/** Splits a join token into the CA hash and the JWT; KubeEdge insists on exactly 4 dot-separated parts. */
export function splitJoinToken(token: string): JoinTokenParts {
  const trimmed = token.trim();
  const parts = trimmed.split('.');
  const [caHash] = parts;
  if (parts.length !== 4 || caHash === undefined || parts.some((p) => p === '')) {
    throw new TokenError('join token is malformed: want <caHash>.<header>.<payload>.<signature>', {
      parts: parts.length,
    });
  }
  if (!/^[0-9a-f]{64}$/i.test(caHash)) {
    throw new TokenError('join token is malformed: first part is not a hex SHA-256 of the CA', { caHash });
  }
  return { caHash: caHash.toLowerCase(), jwt: parts.slice(1).join('.') };
}

export type JoinJwtClaims = JWTPayload & { exp: number };

/**
 * Verifies the JWT part with the CA key. Resolves to the claims when valid, `false` on a bad signature,
 * expiry or garbage, so callers on the network path cannot be made to throw.
 */
export async function verifyJoinJwt(jwt: string, caKeyDer: Buffer, now: Date = new Date()): Promise<JoinJwtClaims | false> {
  const r = await explainJoinJwt(jwt, caKeyDer, now);
  return r.ok ? r.claims : false;
}

export type JwtVerdict = { ok: true; claims: JoinJwtClaims } | { ok: false; reason: string };

/** Like verifyJoinJwt but says why it failed, for logs and 401 bodies. Never throws. */
export async function explainJoinJwt(jwt: string, caKeyDer: Buffer, now: Date = new Date()): Promise<JwtVerdict> {
  try {
    const { payload } = await jwtVerify(jwt, new Uint8Array(caKeyDer), {
      algorithms: HMAC_ALGS,
      requiredClaims: ['exp'],
      currentDate: now,
    });
    return { ok: true, claims: payload as JoinJwtClaims };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'token has expired' };
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'token signature is invalid' };
    return { ok: false, reason: `token is invalid: ${err instanceof Error ? err.message : String(err)}` };
  }
}
