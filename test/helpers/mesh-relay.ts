/**
 * A relay for EdgeMesh tests: a real tunnel server (WebSocket over mutual TLS on loopback, the shared tunnel
 * library's sessions) that does what CloudStream's relay does for `purpose=mesh` sessions: a stream opened by node
 * A with `{ kind: 'relay', node: 'B', target }` is opened on B's session as `{ kind: 'relay', from: 'A', target }`
 * and piped both ways; refused (reset) when B has no session. Only the relay logic is a stand-in.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { HEADER_NODE, TUNNEL_PATH, TunnelSession, type TunnelStream } from '../../src/stream/index.ts';

export type TestRelay = { url: string; relayed: number; close(): Promise<void> };

export async function startTestRelay(tls: { ca: Buffer | string; cert: Buffer | string; key: Buffer | string }, host = '127.0.0.1'): Promise<TestRelay> {
  const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true });
  const wss = new WebSocketServer({ server, path: TUNNEL_PATH });
  const sessions = new Map<string, TunnelSession>();
  const relay: TestRelay = {
    url: '',
    relayed: 0,
    close: async () => {
      for (const s of sessions.values()) s.close();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  wss.on('connection', (ws, req) => {
    const node = String(req.headers[HEADER_NODE.toLowerCase()] ?? '');
    const session = new TunnelSession(ws);
    sessions.set(node, session);
    session.on('close', () => {
      if (sessions.get(node) === session) sessions.delete(node);
    });
    session.on('stream', (h, s: TunnelStream) => {
      const peer = sessions.get(String(h['node'] ?? ''));
      if (h.kind !== 'relay' || peer === undefined) {
        s.reset(`node ${String(h['node'])} has no mesh session`);
        return;
      }
      relay.relayed++;
      const t = peer.open({ kind: 'relay', from: node, target: h['target'], protocol: h['protocol'] });
      s.pipe(t);
      t.pipe(s);
      s.on('error', () => t.destroy());
      t.on('error', () => s.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  relay.url = `${host}:${(server.address() as AddressInfo).port}`;
  return relay;
}
