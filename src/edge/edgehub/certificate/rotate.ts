import { readFile } from 'node:fs/promises';
import { logger, type Logger } from '../../../core/log.ts';
import { keyDerToPem, pemToDer } from '../../../pki/pem.ts';
import { certFacts } from '../../../pki/cert-info.ts';
import { checkIssued, edgeCsrSubject, endpoint, reuseProblem, writeAtomic, type EdgeCerts } from './bootstrap.ts';
import { BAD_CLOUD_REPLY, EdgeCertError } from './errors.ts';
import { cloudGet } from './http.ts';
import { withRetry, type RetryOptions } from './retry.ts';

export type RotateOptions = {
  httpServer: string;
  nodeName: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  log?: Logger;
  signal?: AbortSignal;
  retry?: RetryOptions;
  now?: Date;
  /** 0..1; picks the point between 70 % and 90 % of the lifetime (KubeEdge jitters the same way). */
  jitter?: number;
};

export type RotateResult = { rotated: boolean; dueAt: Date; certs?: EdgeCerts };

/** When a certificate should be renewed: 70-90 % into its validity, so a fleet does not renew all at once. */
export function rotationDeadline(certPem: string, jitter: number = Math.random()): Date {
  const f = certFacts(pemToDer(certPem, 'CERTIFICATE'));
  if (f === undefined) throw new EdgeCertError(BAD_CLOUD_REPLY, 'certificate is unreadable');
  const life = f.notAfter.getTime() - f.notBefore.getTime();
  const j = Math.min(1, Math.max(0, jitter));
  return new Date(f.notBefore.getTime() + life * (0.7 + 0.2 * j));
}

/**
 * Renews the edge certificate once it is due: a fresh key and CSR, authenticated by the current certificate as
 * TLS client certificate (no token needed), over TLS verified with the CA file. The caller reconnects the hub.
 */
export async function rotateIfDue(o: RotateOptions): Promise<RotateResult> {
  const log = o.log ?? logger('edgehub-cert');
  const now = o.now ?? new Date();
  const [caPem, certPem, keyPem] = await Promise.all([readFile(o.caFile, 'utf8'), readFile(o.certFile, 'utf8'), readFile(o.keyFile, 'utf8')]);
  const dueAt = rotationDeadline(certPem, o.jitter);
  if (now < dueAt) return { rotated: false, dueAt };
  const problem = reuseProblem(caPem, certPem, keyPem, o.nodeName, now);
  if (problem !== undefined) {
    // An expired or foreign certificate cannot vouch for us; only a token can (ensureEdgeCertificates).
    throw new EdgeCertError(BAD_CLOUD_REPLY, `cannot rotate: ${problem}; re-join with a token`, { certFile: o.certFile });
  }
  log.info({ dueAt }, 'rotating edge certificate');
  // Loaded only here: the X.509 generation library costs edgecore ~17 MB it would otherwise carry idle.
  const { createCsr } = await import('../../../pki/x509.ts');
  const { csrDer, keyDer } = await createCsr(edgeCsrSubject(o.nodeName));
  const signal = o.signal;
  const certDer = await withRetry(
    'GET /edge.crt (rotation)',
    () =>
      cloudGet({
        url: endpoint(o.httpServer, '/edge.crt'),
        caPem,
        body: csrDer,
        headers: { NodeName: o.nodeName, 'Content-Type': 'application/octet-stream' },
        clientCert: { certPem, keyPem },
        ...(signal ? { signal } : {}),
      }),
    log,
    o.retry,
    signal,
  );
  const newCertPem = checkIssued(certDer, pemToDer(caPem, 'CERTIFICATE'), keyDer, o.httpServer);
  const newKeyPem = keyDerToPem(keyDer);
  try {
    await writeAtomic(o.keyFile, newKeyPem, 0o600);
    await writeAtomic(o.certFile, newCertPem, 0o644);
  } catch (err) {
    throw new EdgeCertError('KE_EDGE_CERT_WRITE', `writing the rotated certificate failed`, { certFile: o.certFile }, err);
  }
  log.info({ certFile: o.certFile }, 'edge certificate rotated');
  return { rotated: true, dueAt, certs: { caPem, certPem: newCertPem, keyPem: newKeyPem, enrolled: true } };
}
