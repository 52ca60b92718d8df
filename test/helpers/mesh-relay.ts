/**
 * CloudStream's tunnel server and its EdgeMesh relay (the real ones, `src/cloud/cloudstream/`), started alone on
 * a free port for EdgeMesh tests: mutual TLS against the test CA, mesh tunnels registered by node, relay streams
 * forwarded between them. `relayed` counts the relay streams it forwarded.
 */
import { relayMeshStream } from '../../src/cloud/cloudstream/relay.ts';
import { TunnelRegistry } from '../../src/cloud/cloudstream/registry.ts';
import { TunnelServer } from '../../src/cloud/cloudstream/tunnel-server.ts';
import { logger } from '../../src/core/log.ts';
import { EdgeIdentityPolicy } from '../../src/pki/edge-identity.ts';
import { type KeyPairDer, certDerToPem, issueKeyPair, keyDerToPem } from '../../src/pki/x509.ts';

export type TestRelay = { url: string; relayed: number; close(): Promise<void> };

export async function startTestRelay(ca: KeyPairDer, hosts: string[], address = '127.0.0.1'): Promise<TestRelay> {
  const kp = await issueKeyPair(ca, { subject: 'CN=cloudstream', hosts, usages: ['serverAuth'], days: 1 });
  const registry = new TunnelRegistry();
  const log = logger('test-cloudstream');
  const relay: TestRelay = { url: '', relayed: 0, close: async () => server.close() };
  const server = new TunnelServer({
    address,
    port: 0,
    caPem: certDerToPem(ca.certDer),
    certPem: certDerToPem(kp.certDer),
    keyPem: keyDerToPem(kp.keyDer),
    ca,
    registry,
    // the mesh tests' edges hold node-named certificates; every node they name exists
    identity: new EdgeIdentityPolicy({ allowSharedCerts: true, nodeExists: async () => true, enrolmentGraceMs: 0, log }),
    tunnel: { idleTimeoutMs: 60_000, keepaliveMs: 30_000 },
    log,
    onTunnel: (node, purpose, session) => {
      session.on('stream', (header, stream) => {
        if (purpose !== 'mesh') return stream.reset('not a mesh tunnel');
        if (registry.get(String(header['node'] ?? ''), 'mesh') !== undefined) relay.relayed++;
        relayMeshStream(node, header, stream, registry, log);
      });
    },
  });
  const addr = await server.listen();
  relay.url = `${address === '0.0.0.0' ? (hosts[0] ?? '127.0.0.1') : address}:${addr.port}`;
  return relay;
}
