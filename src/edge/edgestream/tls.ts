import { readFile } from 'node:fs/promises';
import type { EdgeCoreConfig } from '../../config/index.ts';
import type { TunnelTls } from './edgestream.ts';

type Es = EdgeCoreConfig['modules']['edgeStream'];
type Hub = EdgeCoreConfig['modules']['edgeHub'];

const KUBEEDGE_DEFAULTS = ['/etc/kubeedge/ca/rootCA.crt', '/etc/kubeedge/certs/server.crt', '/etc/kubeedge/certs/server.key'];

/**
 * The node certificate the tunnel dials with. KubeEdge's tlsTunnel* default to the files EdgeHub's bootstrap
 * writes; when they are those defaults or EdgeHub's own paths, EdgeHub's material is used (the same files, fetched
 * or rotated by EdgeHub); other paths are read as given, at each dial.
 */
export function edgeStreamTls(es: Es, hub: Hub, hubTls: () => Promise<TunnelTls>): () => Promise<TunnelTls> {
  const files = [es.tlsTunnelCAFile, es.tlsTunnelCertFile, es.tlsTunnelPrivateKeyFile];
  const hubFiles = [hub.tlsCaFile, hub.tlsCertFile, hub.tlsPrivateKeyFile];
  const same = (list: string[]): boolean => files.every((f, i) => f === list[i]);
  if (same(KUBEEDGE_DEFAULTS) || same(hubFiles)) return hubTls;
  return async () => {
    const [caPem, certPem, keyPem] = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    return { caPem: caPem as string, certPem: certPem as string, keyPem: keyPem as string };
  };
}
