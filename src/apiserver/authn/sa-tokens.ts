import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The issuer and default audience of ServiceAccount tokens, as a kubeadm cluster names them. */
export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES = [SA_ISSUER];

export type SaClaims = {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
};

function b64url(v: Buffer | string): string {
  return Buffer.from(v).toString('base64url');
}

/**
 * ServiceAccount tokens: ES256 JWTs signed by a key the server keeps in dataDir (so tokens survive a restart),
 * with the claims kube-apiserver puts in them (iss, sub, aud, exp, and the `kubernetes.io` namespace and
 * service account name/uid that a token is checked against at use).
 */
/** How many verified tokens are remembered; past it the memory starts afresh. */
const VERIFIED_CACHE_SIZE = 4096;

export class ServiceAccountTokens {
  readonly #key: KeyObject;
  readonly #pub: KeyObject;
  readonly #kid: string;
  readonly #verified = new Map<string, SaClaims>();

  constructor(keyPem: string) {
    this.#key = createPrivateKey(keyPem);
    this.#pub = createPublicKey(this.#key);
    this.#kid = b64url(
      createHash('sha256')
        .update(this.#pub.export({ type: 'spki', format: 'der' }))
        .digest(),
    ).slice(0, 43);
  }

  static async load(dataDir: string): Promise<ServiceAccountTokens> {
    const p = join(dataDir, 'apiserver-sa.key');
    if (existsSync(p)) return new ServiceAccountTokens(await readFile(p, 'utf8'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(p, pem, { mode: 0o600 });
    return new ServiceAccountTokens(pem);
  }

  issue(o: { namespace: string; name: string; uid: string; audiences: string[]; expirationSeconds: number }): { token: string; exp: number } {
    const now = Math.floor(Date.now() / 1000);
    const claims: SaClaims = {
      iss: SA_ISSUER,
      sub: `system:serviceaccount:${o.namespace}:${o.name}`,
      aud: o.audiences,
      exp: now + o.expirationSeconds,
      iat: now,
      nbf: now,
      jti: randomUUID(),
      'kubernetes.io': { namespace: o.namespace, serviceaccount: { name: o.name, uid: o.uid } },
    };
    const input = `${b64url(JSON.stringify({ alg: 'ES256', kid: this.#kid }))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${b64url(sig)}`, exp: claims.exp };
  }

  /** The claims of a token signed here, unexpired, for one of `audiences`; undefined otherwise. */
  verify(token: string, audiences: string[]): SaClaims | undefined {
    const claims = this.#signedClaims(token);
    if (claims === undefined) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== SA_ISSUER || typeof claims.exp !== 'number' || claims.exp <= now || (claims.nbf ?? 0) > now + 60) return undefined;
    const aud = Array.isArray(claims.aud) ? claims.aud : [String(claims.aud)];
    if (!aud.some((a) => audiences.includes(a))) return undefined;
    if (typeof claims['kubernetes.io']?.serviceaccount?.name !== 'string') return undefined;
    return { ...claims, aud };
  }

  /**
   * The claims of a token whose signature is ours, parsed. A controller sends the same token with every
   * request, and an ECDSA verification costs far more than the request itself, so verified tokens are
   * remembered (as kube-apiserver caches token authentication); expiry and audience are checked on each use.
   */
  #signedClaims(token: string): SaClaims | undefined {
    const known = this.#verified.get(token);
    if (known !== undefined) return known;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    let claims: SaClaims;
    try {
      const header: { alg?: string; kid?: string } = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      if (header.alg !== 'ES256' || header.kid !== this.#kid) return undefined;
      if (!verify('sha256', Buffer.from(`${h}.${p}`), { key: this.#pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) return undefined;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear();
    this.#verified.set(token, claims);
    return claims;
  }
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
