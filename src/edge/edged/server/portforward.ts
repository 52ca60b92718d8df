import net from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../../../core/log.ts';
import type { SpdySession, SpdyStream } from '../../../stream/spdy/index.ts';
import { decodeWsMessage } from './channels.ts';

/**
 * Port-forward reaches the pod by dialling its IP from edgecore (127.0.0.1 for a host-network pod), the same for
 * Docker and CRI: edgecore runs where the pod network is routable (the host's network namespace), and it needs
 * no engine support (the Docker Engine API has none). A port nothing listens on gives the client an error on the
 * port's error stream, as the kubelet's does.
 */
export type PortTarget = { host: string };

function dial(target: PortTarget, port: number): net.Socket {
  return net.connect({ host: target.host, port });
}

/**
 * SPDY (portforward.k8s.io): the client opens an error and a data stream per connection, with headers `port`
 * and `requestid`; each data stream is one TCP connection to the pod.
 */
export function servePortForwardSpdy(session: SpdySession, target: PortTarget, log: Logger): void {
  const errors = new Map<string, SpdyStream>();
  session.on('stream', (s: SpdyStream) => {
    s.on('error', () => undefined);
    const type = s.headers['streamtype'];
    const port = Number(s.headers['port']);
    const requestId = s.headers['requestid'] ?? String(type === 'error' ? s.id + 2 : s.id);
    s.reply();
    if (type === 'error') {
      errors.set(requestId, s);
      s.resume();
      return;
    }
    if (type !== 'data' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      s.reset();
      return;
    }
    const conn = dial(target, port);
    conn.on('error', (err) => {
      const e = errors.get(requestId);
      const text = `error forwarding port ${port} to pod, uid : ${err.message}`;
      log.debug({ port, err }, 'port-forward dial failed');
      if (e && !e.destroyed) e.end(text);
      if (!s.destroyed) s.end();
    });
    conn.on('close', () => {
      if (!s.destroyed) s.end();
      errors.get(requestId)?.end();
      errors.delete(requestId);
    });
    s.pipe(conn);
    conn.pipe(s, { end: false });
  });
}

/** WebSocket (channel protocols): `?ports=a,b`; channels 2i (data) and 2i+1 (error), each first sent the port (LE). */
export function servePortForwardWs(ws: WebSocket, ports: number[], target: PortTarget, log: Logger): void {
  const conns = ports.map((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    for (const ch of [2 * i, 2 * i + 1]) ws.send(Buffer.concat([Buffer.from([ch]), prefix]));
    const conn = dial(target, port);
    conn.on('data', (c: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), c]));
    });
    conn.on('error', (err) => {
      log.debug({ port, err }, 'port-forward dial failed');
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(`error forwarding port ${port}: ${err.message}`)]));
    });
    conn.on('close', () => {
      if (conns.every((c) => c.destroyed) && ws.readyState === ws.OPEN) ws.close(1000);
    });
    return conn;
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = decodeWsMessage(data, isBinary, false);
    if (!m || m.channel % 2 !== 0) return;
    conns[m.channel / 2]?.write(m.payload);
  });
  ws.on('close', () => {
    for (const c of conns) c.destroy();
  });
  ws.on('error', (err) => log.debug({ err }, 'port-forward websocket error'));
}
