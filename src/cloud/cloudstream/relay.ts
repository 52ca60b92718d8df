import type { Logger } from '../../core/log.ts';
import type { StreamHeader, TunnelStream } from '../../stream/index.ts';
import type { TunnelRegistry } from './registry.ts';

const PROTOCOLS = new Set(['tcp', 'udp']);

/**
 * EdgeMesh's cloud relay: a `relay` stream that node A opens on its mesh tunnel toward node B is opened again on
 * B's mesh tunnel as `{kind: relay, from: A, target, protocol}` and the two are piped both ways. `from` is the
 * authenticated name of A's tunnel, never what A wrote. B checks that `target` is one of its endpoints.
 */
export function relayMeshStream(from: string, header: StreamHeader, stream: TunnelStream, registry: TunnelRegistry, log: Logger): void {
  const node = typeof header['node'] === 'string' ? header['node'] : '';
  const target = typeof header['target'] === 'string' ? header['target'] : '';
  const protocol = typeof header['protocol'] === 'string' ? header['protocol'] : 'tcp';
  stream.on('error', () => {});
  if (header.kind !== 'relay') return stream.reset(`stream kind "${header.kind}" is not served on a mesh tunnel`);
  if (node === '' || !/^[^\s:]+:\d{1,5}$/.test(target) || !PROTOCOLS.has(protocol)) {
    return stream.reset('relay header needs node, target "<ip>:<port>" and protocol tcp|udp');
  }
  const peer = registry.get(node, 'mesh');
  if (peer === undefined) {
    log.debug({ from, node, target }, 'relay refused: no mesh tunnel to the node');
    return stream.reset(`node ${node} has no mesh session`);
  }
  const out = peer.session.open({ kind: 'relay', from, target, protocol });
  out.on('error', (err: Error) => {
    const reason = 'reason' in err && typeof err.reason === 'string' ? err.reason : err.message;
    stream.reset(reason);
  });
  stream.on('error', (err: Error) => {
    const reason = 'reason' in err && typeof err.reason === 'string' ? err.reason : err.message;
    out.reset(reason);
  });
  stream.pipe(out);
  out.pipe(stream);
}
