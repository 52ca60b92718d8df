import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError } from '../../../core/errors.ts';
import { logger, type Logger } from '../../../core/log.ts';
import { TokenError, caCertHash, splitJoinToken } from '../../../pki/token.ts';
import { certDerToPem, chainsTo, keyDerToPem, keyMatchesCert, keyPemToDer, parseCert, pemToDer } from '../../../pki/pem.ts';
import { certFacts } from '../../../pki/cert-info.ts';
import { isLegacyEdgeSubject, nodeCommonName } from '../../../pki/cert-info.ts';
import { BAD_CLOUD_REPLY, CLOUD_REJECTED, EdgeCertError, TOKEN_CA_MISMATCH, TOKEN_MALFORMED, TOKEN_MISSING, TOKEN_REFUSED } from './errors.ts';
import { cloudGet } from './http.ts';
import { withRetry, type RetryOptions } from './retry.ts';

export type EdgeCertOptions = {
  /** modules.edgeHub.httpServer, e.g. https://10.0.0.1:10002 */
  httpServer: string;
  /** modules.edgeHub.token (the full `<caHash>.<jwt>`); only needed when there is no usable certificate yet. */
  token: string;
  nodeName: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  log?: Logger;
  signal?: AbortSignal;
  retry?: RetryOptions;
};

export type EdgeCerts = { caPem: string; certPem: string; keyPem: string; enrolled: boolean };

/** KubeEdge's CSR subject for edge nodes (edge/pkg/edgehub/certificate/certmanager.go). */
export function edgeCsrSubject(nodeName: string): string {
  return `C=CN, ST=Zhejiang, L=Hangzhou, O=system:nodes, CN=${nodeCommonName(nodeName)}`;
}

export function endpoint(httpServer: string, path: string): string {
  return `${httpServer.replace(/\/+$/, '')}${path}`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes via a temp file and rename so a crash never leaves half a key behind. */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode); // a leftover temp file keeps its old mode otherwise
  await rename(tmp, path);
}

/** Why the files on disk cannot be reused, or undefined when they can. */
export function reuseProblem(caPem: string, certPem: string, keyPem: string, nodeName: string, now = new Date()): string | undefined {
  try {
    const caDer = pemToDer(caPem, 'CERTIFICATE');
    const certDer = pemToDer(certPem, 'CERTIFICATE');
    const keyDer = keyPemToDer(keyPem);
    if (!keyMatchesCert(keyDer, certDer)) return 'the key does not belong to the certificate';
    if (!chainsTo(certDer, caDer, now)) return 'the certificate is expired or not signed by the CA file';
    const f = certFacts(certDer);
    if (f === undefined) return 'the certificate is unreadable';
    if (f.cn === nodeCommonName(nodeName)) return undefined;
    if (isLegacyEdgeSubject(f.cn, f.o) || f.cn === 'kubeedge.io') return undefined;
    return `the certificate is for CN=${f.cn ?? ''}, not ${nodeCommonName(nodeName)}`;
  } catch (err) {
    return `unreadable: ${describeError(err)}`;
  }
}

async function loadExisting(o: EdgeCertOptions): Promise<{ certs: EdgeCerts } | { problem: string }> {
  const [caPem, certPem, keyPem] = await Promise.all([readOptional(o.caFile), readOptional(o.certFile), readOptional(o.keyFile)]);
  if (caPem === undefined || certPem === undefined || keyPem === undefined) return { problem: 'certificate files are missing' };
  const problem = reuseProblem(caPem, certPem, keyPem, o.nodeName);
  return problem === undefined ? { certs: { caPem, certPem, keyPem, enrolled: false } } : { problem };
}

function parseToken(token: string): { caHash: string; jwt: string } {
  if (token.trim() === '') {
    throw new EdgeCertError(TOKEN_MISSING, 'no usable edge certificate and modules.edgeHub.token is empty: set it to the output of `keadm gettoken`', {
      key: 'modules.edgeHub.token',
    });
  }
  try {
    return splitJoinToken(token);
  } catch (err) {
    const why = err instanceof TokenError ? err.message : describeError(err);
    throw new EdgeCertError(TOKEN_MALFORMED, `modules.edgeHub.token is malformed: ${why}`, { key: 'modules.edgeHub.token' }, err);
  }
}

/**
 * Makes sure the edge has a CA, a client certificate and its key on disk. Valid files are reused, so a restart
 * needs no token; otherwise the node enrols with the cloud like KubeEdge's certmanager does: fetch the CA
 * unverified, pin it by the token's hash, then have a fresh CSR signed over a connection verified by that CA.
 */
export async function ensureEdgeCertificates(o: EdgeCertOptions): Promise<EdgeCerts> {
  const log = o.log ?? logger('edgehub-cert');
  const existing = await loadExisting(o);
  if ('certs' in existing) {
    log.info({ certFile: o.certFile }, 'reusing edge certificate');
    return existing.certs;
  }
  log.info({ reason: existing.problem, httpServer: o.httpServer }, 'requesting an edge certificate from the cloud');
  const { caHash, jwt } = parseToken(o.token);
  const signal = o.signal;

  const caDer = await withRetry(
    'GET /ca.crt',
    () => cloudGet({ url: endpoint(o.httpServer, '/ca.crt'), caPem: undefined, ...(signal ? { signal } : {}) }),
    log,
    o.retry,
    signal,
  );
  if (caCertHash(caDer) !== caHash) {
    throw new EdgeCertError(
      TOKEN_CA_MISMATCH,
      `join token refused: it does not match the cloud's CA (the CA served by ${o.httpServer} is not the one the token was made for); get a new one with \`keadm gettoken\``,
      {
        tokenCaHash: caHash,
        cloudCaHash: caCertHash(caDer),
        httpServer: o.httpServer,
      },
    );
  }
  try {
    parseCert(caDer);
  } catch (err) {
    throw new EdgeCertError(BAD_CLOUD_REPLY, `${o.httpServer}/ca.crt did not return a DER certificate`, { httpServer: o.httpServer }, err);
  }
  const caPem = certDerToPem(caDer);
  await writeAtomic(o.caFile, caPem, 0o644);

  // Loaded only here: the X.509 generation library costs edgecore ~17 MB it would otherwise carry idle.
  const { createCsr } = await import('../../../pki/x509.ts');
  const { csrDer, keyDer } = await createCsr(edgeCsrSubject(o.nodeName));
  const certDer = await refusedTokenIsFatal(
    withRetry(
      'GET /edge.crt',
      () =>
        cloudGet({
          url: endpoint(o.httpServer, '/edge.crt'),
          caPem,
          body: csrDer,
          headers: { NodeName: o.nodeName, Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/octet-stream' },
          ...(signal ? { signal } : {}),
        }),
      log,
      o.retry,
      signal,
    ),
  );
  const certPem = checkIssued(certDer, caDer, keyDer, o.httpServer);
  const keyPem = keyDerToPem(keyDer);
  await writeAtomic(o.keyFile, keyPem, 0o600);
  await writeAtomic(o.certFile, certPem, 0o644);
  log.info({ certFile: o.certFile, nodeName: o.nodeName }, 'edge certificate issued by the cloud');
  return { caPem, certPem, keyPem, enrolled: true };
}

/** The cloud's answer must be a certificate for our key from our CA; anything else is not worth saving. */
export function checkIssued(certDer: Buffer, caDer: Buffer, keyDer: Buffer, httpServer: string): string {
  try {
    if (!keyMatchesCert(keyDer, certDer)) throw new Error('certificate is not for our key');
    if (!chainsTo(certDer, caDer)) throw new Error('certificate is not signed by the CA or not yet valid');
  } catch (err) {
    throw new EdgeCertError(BAD_CLOUD_REPLY, `${httpServer}/edge.crt returned an unusable certificate`, { httpServer }, err);
  }
  return certDerToPem(certDer);
}

/** A 401/403 on enrolment means the token is wrong or expired: say so in words an operator acts on. */
async function refusedTokenIsFatal<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const status = err instanceof EdgeCertError ? err.context['status'] : undefined;
    if (err instanceof EdgeCertError && err.code === CLOUD_REJECTED && (status === 401 || status === 403)) {
      const why = String(err.context['body'] ?? '').trim();
      throw new EdgeCertError(
        TOKEN_REFUSED,
        `join token refused by the cloud (modules.edgeHub.token${why === '' ? '' : `: ${why}`}); get a new one with \`keadm gettoken\``,
        { status, key: 'modules.edgeHub.token' },
        err,
      );
    }
    throw err;
  }
}
