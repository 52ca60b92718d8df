import { readFile } from 'node:fs/promises';
import type { CloudCoreConfig } from '../../config/index.ts';
import type { Logger } from '../../core/log.ts';
import { logger } from '../../core/log.ts';
import { certDerToPem, type KeyPairDer, keyDerToPem } from '../../pki/x509.ts';
import type { CloudStreamOptions } from './cloudstream.ts';

type Cs = CloudCoreConfig['modules']['cloudStream'];
type Hub = CloudCoreConfig['modules']['cloudHub'];

async function readOr(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * TLS of CloudStream's two listeners. Tunnel: KubeEdge's defaults are cloudHub's own files, so the cloud PKI
 * (which those files or the casecret hold) serves unless tlsTunnel* name other files that exist. Stream server:
 * only when tlsStreamCAFile exists, since it says whose client certificates (the kube-apiserver's) may connect;
 * its serving pair is tlsStreamCertFile/KeyFile, or cloudcore's server certificate when those are absent.
 */
export async function cloudStreamTls(
  cs: Cs,
  hub: Hub,
  pki: { ca: KeyPairDer; server: KeyPairDer },
  log: Logger = logger('cloudstream'),
): Promise<Pick<CloudStreamOptions, 'tunnel' | 'stream'>> {
  let certPem = certDerToPem(pki.server.certDer);
  let keyPem = keyDerToPem(pki.server.keyDer);
  if (cs.tlsTunnelCertFile !== hub.tlsCertFile) {
    const [c, k] = await Promise.all([readOr(cs.tlsTunnelCertFile), readOr(cs.tlsTunnelPrivateKeyFile)]);
    if (c !== undefined && k !== undefined) {
      certPem = c;
      keyPem = k;
    }
  }
  const tunnel = { address: '0.0.0.0', port: cs.tunnelPort, caPem: certDerToPem(pki.ca.certDer), certPem, keyPem, ca: pki.ca };
  const clientCaPem = await readOr(cs.tlsStreamCAFile);
  if (clientCaPem === undefined) {
    log.info(
      { tlsStreamCAFile: cs.tlsStreamCAFile },
      'no stream CA file: the stream server (streamPort) is not started; the embedded API server reaches edges in process',
    );
    return { tunnel };
  }
  const [sc, sk] = await Promise.all([readOr(cs.tlsStreamCertFile), readOr(cs.tlsStreamPrivateKeyFile)]);
  return {
    tunnel,
    stream: { address: '0.0.0.0', port: cs.streamPort, clientCaPem, certPem: sc ?? certPem, keyPem: sc !== undefined && sk !== undefined ? sk : keyPem },
  };
}
