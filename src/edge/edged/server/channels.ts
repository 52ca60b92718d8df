import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../../core/log.ts';
import { SpdySession, type SpdyStream } from '../../../stream/spdy/index.ts';
import type { StreamFlags, TerminalSize } from '../runtime/types.ts';
import type { KubeStatus } from './status.ts';

/**
 * The client's end of an exec or attach, whatever protocol carried it: the streams it asked for, resize events,
 * and how to report the outcome (v4+: a Status JSON on the error channel; older: the error text, nothing on success).
 */
export type RemoteChannels = {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  resize: ResizeEvents;
  signal: AbortSignal;
  finish(status: KubeStatus): Promise<void>;
};

/** Terminal sizes from the client; `last` keeps one that came before anybody listened (the exec starts later). */
export class ResizeEvents extends EventEmitter {
  last: TerminalSize | undefined;

  push(s: TerminalSize): void {
    this.last = s;
    this.emit('resize', s);
  }
}

/** Channel numbers of the channel.k8s.io protocols. */
export const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Subprotocols for exec/attach, preferred first (v5 adds the close signal for stdin). */
export const WS_REMOTECOMMAND = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];
/** SPDY remotecommand versions (X-Stream-Protocol-Version). */
export const SPDY_REMOTECOMMAND = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

function statusBytes(protocol: string, status: KubeStatus): Buffer | undefined {
  if (protocol.startsWith('v4.') || protocol.startsWith('v5.')) return Buffer.from(JSON.stringify(status));
  // channel.k8s.io up to v3: plain text, and only for a failure
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? 'error');
}

/** Splits concatenated JSON objects (the resize stream is a JSON decoder over a byte stream). */
export function resizeParser(emit: (s: TerminalSize) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    for (;;) {
      const end = buf.indexOf('}');
      if (end < 0) return;
      const text = buf.slice(0, end + 1);
      buf = buf.slice(end + 1);
      try {
        const o = JSON.parse(text) as { Width?: unknown; Height?: unknown };
        if (typeof o.Width === 'number' && typeof o.Height === 'number') emit({ width: o.Width, height: o.Height });
      } catch {
        // a malformed size is dropped; the next one may be fine
      }
    }
  };
}

/** A channel of a WebSocket as a Writable: each write is one message, done when `ws` sent it (backpressure). */
function wsChannelWriter(ws: WebSocket, channel: number, base64: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) {
        cb();
        return;
      }
      if (base64) ws.send(`${channel}${chunk.toString('base64')}`, (err) => cb(err ?? null));
      else ws.send(Buffer.concat([Buffer.from([channel]), chunk]), (err) => cb(err ?? null));
    },
  });
}

/** Decodes one incoming message into channel + payload (binary: first byte; base64: first character). */
export function decodeWsMessage(data: Buffer, isBinary: boolean, base64: boolean): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (base64 && !isBinary) {
    const text = data.toString('latin1');
    const ch = text.charCodeAt(0) - 48;
    return { channel: ch, payload: Buffer.from(text.slice(1), 'base64') };
  }
  return { channel: data[0] ?? 0, payload: data.subarray(1) };
}

/** exec/attach over a WebSocket already upgraded with one of WS_REMOTECOMMAND. */
export function wsRemoteChannels(ws: WebSocket, flags: StreamFlags, log: Logger): RemoteChannels {
  const protocol = ws.protocol;
  const base64 = protocol.includes('base64');
  const ac = new AbortController();
  const resize = new ResizeEvents();
  const stdin = flags.stdin ? new PassThrough() : undefined;
  const onResize = resizeParser((s) => resize.push(s));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = decodeWsMessage(Buffer.isBuffer(data) ? data : Buffer.from(data), isBinary, base64);
    if (!m) return;
    if (m.channel === CH.stdin && stdin) {
      // A client typing faster than the process reads waits on its socket, not in our memory.
      if (!stdin.write(m.payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (m.channel === CH.resize) onResize(m.payload);
    else if (m.channel === CH.close && m.payload[0] === CH.stdin) stdin?.end();
  });
  ws.on('close', () => {
    stdin?.end();
    ac.abort();
  });
  ws.on('error', (err) => log.debug({ err }, 'exec websocket error'));
  const stdout = flags.stdout ? wsChannelWriter(ws, CH.stdout, base64) : undefined;
  const stderr = flags.stderr && !flags.tty ? wsChannelWriter(ws, CH.stderr, base64) : undefined;
  // The kubelet's first message: an empty one on the lowest output channel, so the client knows it is connected.
  const first = stdout ? CH.stdout : stderr ? CH.stderr : CH.error;
  if (base64) ws.send(`${first}`);
  else ws.send(Buffer.from([first]));
  return {
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    resize,
    signal: ac.signal,
    async finish(status) {
      const bytes = statusBytes(protocol, status);
      if (bytes && ws.readyState === ws.OPEN) {
        await new Promise<void>((resolve) => {
          if (base64) ws.send(`${CH.error}${bytes.toString('base64')}`, () => resolve());
          else ws.send(Buffer.concat([Buffer.from([CH.error]), bytes]), () => resolve());
        });
      }
      ws.close(1000);
    },
  };
}

/** Answers an `Upgrade: SPDY/3.1` request with 101 and the chosen protocol; undefined when none is shared. */
export function acceptSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  supported: string[],
  log: Logger,
): { session: SpdySession; protocol: string } | undefined {
  const offered = String(req.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const protocol = offered.length === 0 ? (supported[supported.length - 1] ?? '') : offered.find((p) => supported.includes(p));
  if (protocol === undefined) {
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nunable to upgrade: unable to negotiate protocol: client supports ${offered.join(', ')}, server supports ${supported.join(', ')}`,
    );
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  return { session: new SpdySession(socket, { server: true, log, maxStreams: 64 }), protocol };
}

/**
 * exec/attach over SPDY: waits for the client's streams (error first, then stdin/stdout/stderr/resize as asked,
 * told apart by their `streamtype` header) and replies to each. Rejects when they do not all come in time.
 */
export function spdyRemoteChannels(session: SpdySession, protocol: string, flags: StreamFlags, timeoutMs = 30_000): Promise<RemoteChannels> {
  const v1 = protocol === 'channel.k8s.io';
  const expected = new Set<string>(['error']);
  if (flags.stdin) expected.add('stdin');
  if (flags.stdout) expected.add('stdout');
  if (flags.stderr && !flags.tty) expected.add('stderr');
  if (flags.tty && !v1 && protocol !== 'v2.channel.k8s.io') expected.add('resize');
  const ac = new AbortController();
  const resize = new ResizeEvents();
  const streams = new Map<string, SpdyStream>();
  session.on('close', () => ac.abort());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`timed out waiting for the client's streams (have ${[...streams.keys()].join(', ') || 'none'})`));
    }, timeoutMs);
    session.on('stream', (s: SpdyStream) => {
      const type = s.headers['streamtype'] ?? '';
      s.reply();
      s.on('error', () => undefined);
      if (type === 'resize')
        s.on(
          'data',
          resizeParser((sz) => resize.push(sz)),
        );
      streams.set(type, s);
      // v1 clients open stdout/stderr/stdin without an announced set: start once the error stream and the asked ones exist.
      if (![...expected].every((t) => streams.has(t))) return;
      clearTimeout(timer);
      const stdin = streams.get('stdin');
      const stdout = streams.get('stdout');
      const stderr = streams.get('stderr');
      const errorStream = streams.get('error');
      resolve({
        ...(stdin ? { stdin } : {}),
        ...(stdout ? { stdout } : {}),
        ...(stderr ? { stderr } : {}),
        resize,
        signal: ac.signal,
        async finish(status) {
          const bytes = statusBytes(protocol, status);
          if (bytes && errorStream && !errorStream.destroyed) await new Promise<void>((r) => errorStream.write(bytes, () => r()));
          for (const st of streams.values()) if (!st.destroyed) st.end();
          session.close();
        },
      });
    });
    session.on('close', () => {
      clearTimeout(timer);
      reject(new Error('client closed the connection before its streams were set up'));
    });
  });
}
