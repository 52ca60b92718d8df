import WebSocket from 'ws';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { TunnelError } from './errors.ts';
import { type TunnelOptions, TunnelSession } from './session.ts';

export type TunnelPurpose = 'kubelet' | 'mesh';

/** KubeEdge's tunnel path and headers (cloud/pkg/cloudstream, edge/pkg/edgestream). */
export const TUNNEL_PATH = '/v1/kubeedge/connect';
export const HEADER_NODE = 'SessionHostNameOverride';
export const HEADER_INTERNAL_IP = 'SessionInternalIP';
/** A tunnel frame is at most one DATA frame plus its header; anything larger is not ours. */
export const TUNNEL_MAX_PAYLOAD = 1024 * 1024;

export type DialTunnelOptions = {
  /** `wss://host:port[/path]` or `host:port` (KubeEdge's `edgeStream.server`); the path defaults to TUNNEL_PATH. */
  url: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  nodeName: string;
  purpose: TunnelPurpose;
  internalIP?: string;
  handshakeTimeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
} & Omit<TunnelOptions, 'log'>;

export function tunnelUrl(server: string, purpose: TunnelPurpose): string {
  const withScheme = /^wss?:\/\//.test(server) ? server : `wss://${server}`;
  const u = new URL(withScheme);
  if (u.pathname === '/' || u.pathname === '') u.pathname = TUNNEL_PATH;
  u.searchParams.set('purpose', purpose);
  return u.toString();
}

/** Dials the cloud's tunnel server with the node's certificate; resolves once the WebSocket is open. */
export function dialTunnel(opts: DialTunnelOptions): Promise<TunnelSession> {
  const headers: Record<string, string> = { [HEADER_NODE]: opts.nodeName };
  if (opts.internalIP !== undefined && opts.internalIP !== '') headers[HEADER_INTERNAL_IP] = opts.internalIP;
  const url = tunnelUrl(opts.url, opts.purpose);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      headers,
      maxPayload: TUNNEL_MAX_PAYLOAD,
      handshakeTimeout: opts.handshakeTimeoutMs ?? 30_000,
      perMessageDeflate: false,
      minVersion: 'TLSv1.2',
    });
    const onAbort = (): void => ws.terminate();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (err: unknown): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new TunnelError('KE_TUNNEL_DIAL', `tunnel dial to ${url} failed: ${describeError(err)}`, { url, node: opts.nodeName }, { cause: err }));
    };
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => {
      fail(new Error(`HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      ws.terminate();
    });
    ws.once('close', () => fail(new Error('closed before open')));
    ws.once('open', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      const session = new TunnelSession(ws, {
        ...(opts.windowBytes !== undefined ? { windowBytes: opts.windowBytes } : {}),
        ...(opts.maxStreams !== undefined ? { maxStreams: opts.maxStreams } : {}),
        ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
        ...(opts.keepaliveMs !== undefined ? { keepaliveMs: opts.keepaliveMs } : {}),
        ...(opts.log !== undefined ? { log: opts.log } : {}),
      });
      resolve(session);
    });
  });
}
