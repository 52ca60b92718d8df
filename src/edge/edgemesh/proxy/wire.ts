/**
 * Builds the proxy component from EdgeMesh's options: the edge's certificate files (edgeHub's, read when needed:
 * they may be written only after the first connection to the cloud), the mesh tunnel to CloudStream at
 * `edgeStream.server`, and where other nodes' peer ports are.
 */
import { readFileSync } from 'node:fs';
import type { MeshComponent, MeshComponentContext } from '../edgemesh.ts';
import type { PeerAddresses } from '../peer/client.ts';
import type { PeerCredentials } from '../peer/server.ts';
import { type IptablesRunner, commandRunner } from '../iptables/run.ts';
import { type MeshTunnelSession, ProxyComponent } from './component.ts';

export type MeshProxySettings = {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** `modules.edgeStream.server` (host:port of CloudStream's tunnel); empty = no cloud relay. */
  tunnelServer?: string;
  /** Dials the mesh tunnel (contract C3 `dialTunnel` with purpose 'mesh'); the daemon passes the real one. */
  dialTunnel?: (o: {
    url: string;
    ca: Buffer;
    cert: Buffer;
    key: Buffer;
    nodeName: string;
    purpose: 'mesh';
    internalIP?: string;
  }) => Promise<MeshTunnelSession>;
  /** Where other nodes' EdgeMesh peer ports are (InternalIP:listenPort); unknown nodes are relayed. */
  peerAddresses?: PeerAddresses;
  /** Bind address of the peer port (default: all). */
  peerBind?: string;
  /** This node's InternalIP, told to nodes that reached us through the relay so they try the direct link. */
  advertiseIP?: string;
  /** `false`: no iptables rules (tests that dial the listeners themselves); a runner: run them there. */
  iptables?: IptablesRunner | false;
};

export function readCredentials(s: Pick<MeshProxySettings, 'caFile' | 'certFile' | 'keyFile'>): PeerCredentials | undefined {
  try {
    return { ca: readFileSync(s.caFile), cert: readFileSync(s.certFile), key: readFileSync(s.keyFile) };
  } catch {
    return undefined;
  }
}

export function proxyComponent(ctx: MeshComponentContext): MeshComponent & { readonly component: ProxyComponent } {
  const o = ctx.options;
  const p = o.proxy;
  const creds = () => (p === undefined ? undefined : readCredentials(p));
  const dial = p?.dialTunnel;
  const server = p?.tunnelServer ?? '';
  const component = new ProxyComponent({
    store: ctx.store,
    nodeName: o.nodeName,
    lbStrategy: o.lbStrategy,
    listenInterface: o.listenInterface,
    listenIP: ctx.address,
    listenPort: o.listenPort,
    creds,
    addresses: p?.peerAddresses ?? (() => undefined),
    ...(p?.peerBind !== undefined ? { peerBind: p.peerBind } : {}),
    ...(p?.advertiseIP !== undefined ? { advertiseIP: p.advertiseIP } : {}),
    // Without proxy settings (an EdgeMesh built for its DNS alone, as in tests) no rules are written.
    iptables: p === undefined ? false : (p.iptables ?? commandRunner()),
    ...(dial !== undefined && server !== ''
      ? {
          dialTunnel: () => {
            const c = creds();
            if (c === undefined) return Promise.reject(new Error('no edge certificate yet'));
            return dial({ url: server, ...c, nodeName: o.nodeName, purpose: 'mesh', ...(p?.advertiseIP !== undefined ? { internalIP: p.advertiseIP } : {}) });
          },
        }
      : {}),
    log: ctx.log,
  });
  return { component, start: () => component.start(), stop: () => component.stop() };
}
