import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { logger } from '../core/log.ts';
import { TunnelError, StreamResetError } from './errors.ts';
import { decodeFrame, encodeFrame, type Frame, FrameType, uint32 } from './frame.ts';

export type StreamHeader = { kind: string; [key: string]: unknown };

export type TunnelOptions = {
  /** Bytes a peer may send on one stream before this side has consumed them (the per-stream credit window). */
  windowBytes?: number;
  /** Streams open at once on this connection, both directions together; an OPEN beyond it is reset. */
  maxStreams?: number;
  /** A stream with no traffic either way for this long is reset ("idle timeout"); 0 = never. */
  idleTimeoutMs?: number;
  /** WebSocket ping interval; a ping not answered by the next one drops the connection. 0 = no pings. */
  keepaliveMs?: number;
  log?: Logger;
};

export type TunnelStats = { streamsOpened: number; streamsAccepted: number; resets: number; rejectedFrames: number };

export const DEFAULT_WINDOW_BYTES = 64 * 1024;
export const DEFAULT_MAX_STREAMS = 256;
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Largest DATA payload: small enough that one stream's frame never holds the connection for long. */
export const MAX_DATA_FRAME = 16 * 1024;
/** Bytes handed to the WebSocket and not yet written out; above it the fair writer waits. */
const WRITER_HIGH_WATER = 128 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CREDIT = 2 ** 31;

type Pending = { buf: Buffer; off: number; cb: (err?: Error | null) => void };
type Outgoing = { frame: Buffer; done?: ((err?: Error | null) => void) | undefined };

/**
 * One stream of a tunnel: a Duplex whose writes go out as DATA frames when the peer has granted credit, and whose
 * reads grant credit back as the consumer takes the bytes. A consumer that stops reading therefore stops only its
 * own stream's producer, never the connection.
 */
export class TunnelStream extends Duplex {
  readonly id: number;
  readonly local: boolean;
  readonly header: StreamHeader;
  readonly #session: TunnelSession;
  readonly #recvWindow: number;
  #sendCredit: number;
  #recvBuffered = 0;
  #ungranted = 0;
  readonly #queue: Buffer[] = [];
  #wantRead = false;
  #finReceived = false;
  #endPushed = false;
  readonly #pending: Pending[] = [];
  #finRequested = false;
  #finSent = false;
  #finCb: ((err?: Error | null) => void) | undefined;
  #resetSeen = false;
  #timer: NodeJS.Timeout | undefined;
  /** Set while the stream sits in the session's round-robin ready list. */
  queued = false;

  constructor(session: TunnelSession, id: number, local: boolean, header: StreamHeader, recvWindow: number, sendCredit: number, idleMs: number) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.local = local;
    this.header = header;
    this.#recvWindow = recvWindow;
    this.#sendCredit = sendCredit;
    if (idleMs > 0) {
      this.#timer = setTimeout(() => this.reset('idle timeout'), idleMs);
      this.#timer.unref();
    }
  }

  get key(): string {
    return (this.local ? 'l' : 'r') + this.id;
  }

  /** Aborts the stream both ways and tells the peer why. */
  reset(reason: string): void {
    if (this.destroyed) return;
    this.#session.sendReset(this, reason);
    this.#resetSeen = true;
    this.fail(new StreamResetError(reason, { local: true }));
  }

  /**
   * Destroys with `err` when someone listens for errors, else without: a tunnel event (peer reset, idle timeout,
   * connection gone) must never become an uncaught exception in a daemon whose code did not listen.
   */
  fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.destroy(err);
    else this.destroy();
  }

  #touch(): void {
    this.#timer?.refresh();
  }

  // --- receive side -------------------------------------------------------------------------------------------
  onData(buf: Buffer): void {
    if (this.#finReceived || this.destroyed) return;
    this.#touch();
    this.#recvBuffered += buf.length;
    if (this.#recvBuffered > this.#recvWindow) {
      this.reset('flow-control window exceeded');
      return;
    }
    this.#queue.push(buf);
    this.#drain();
  }

  onFin(): void {
    this.#finReceived = true;
    this.#drain();
  }

  onCredit(n: number): void {
    this.#touch();
    this.#sendCredit = Math.min(MAX_CREDIT, this.#sendCredit + n);
    if (this.sendable()) this.#session.schedule(this);
  }

  onReset(reason: string): void {
    this.#resetSeen = true;
    this.fail(new StreamResetError(reason, { local: false }));
  }

  override _read(): void {
    this.#wantRead = true;
    this.#drain();
  }

  #drain(): void {
    while (this.#wantRead && this.#queue.length > 0) {
      const chunk = this.#queue.shift() as Buffer;
      this.#ungranted += chunk.length;
      this.#wantRead = this.push(chunk);
    }
    // Grant in quarters of the window: few CREDIT frames, and a producer blocked at zero credit always gets one
    // because its whole window is then on this side and the consumer is taking it.
    if (this.#ungranted > 0 && this.#ungranted >= this.#recvWindow / 4 && !this.destroyed) {
      this.#recvBuffered -= this.#ungranted;
      this.#session.sendCredit(this, this.#ungranted);
      this.#ungranted = 0;
    }
    if (this.#finReceived && this.#queue.length === 0 && !this.#endPushed) {
      this.#endPushed = true;
      this.push(null);
    }
  }

  // --- send side ----------------------------------------------------------------------------------------------
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#touch();
    if (chunk.length === 0) return cb();
    this.#pending.push({ buf: chunk, off: 0, cb });
    if (this.sendable()) this.#session.schedule(this);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#finRequested = true;
    this.#finCb = cb;
    if (this.sendable()) this.#session.schedule(this);
  }

  sendable(): boolean {
    if (this.destroyed) return false;
    if (this.#pending.length > 0) return this.#sendCredit > 0;
    return this.#finRequested && !this.#finSent;
  }

  /** The next frame for the fair writer: at most one DATA frame's worth, or the FIN once all data is out. */
  takeFrame(): Outgoing | undefined {
    const head = this.#pending[0];
    if (head !== undefined) {
      if (this.#sendCredit <= 0) return undefined;
      const n = Math.min(MAX_DATA_FRAME, this.#sendCredit, head.buf.length - head.off);
      const slice = head.buf.subarray(head.off, head.off + n);
      head.off += n;
      this.#sendCredit -= n;
      let done: Pending['cb'] | undefined;
      if (head.off >= head.buf.length) {
        this.#pending.shift();
        done = head.cb;
      }
      this.#touch();
      return { frame: encodeFrame(FrameType.DATA, this.id, this.local, slice), done };
    }
    if (this.#finRequested && !this.#finSent) {
      this.#finSent = true;
      return { frame: encodeFrame(FrameType.FIN, this.id, this.local), done: this.#finCb };
    }
    return undefined;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const clean = this.#finSent && this.#finReceived;
    if (!clean && !this.#resetSeen) this.#session.sendReset(this, err ? describeError(err) : 'cancelled');
    this.#resetSeen = true;
    this.#pending.length = 0;
    this.#queue.length = 0;
    this.#session.forget(this);
    cb(err);
  }
}

/**
 * One multiplexed tunnel over an open WebSocket, the same on both ends. Streams are opened by either side and
 * carry a JSON header that says what they are for. Data frames of all streams go through one round-robin writer
 * (one frame per ready stream per turn), so a busy stream cannot starve the others; control frames (OPEN, CREDIT,
 * FIN-less RESET) go straight to the socket.
 */
export type TunnelEvents = { stream: [header: StreamHeader, stream: TunnelStream]; close: [] };

export class TunnelSession extends EventEmitter<TunnelEvents> {
  readonly #ws: WebSocket;
  readonly #window: number;
  readonly #maxStreams: number;
  readonly #idleMs: number;
  readonly #log: Logger;
  readonly #streams = new Map<string, TunnelStream>();
  readonly #ready: TunnelStream[] = [];
  #inflight = 0;
  #nextId = 1;
  #closed = false;
  #keepalive: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  readonly stats: TunnelStats = { streamsOpened: 0, streamsAccepted: 0, resets: 0, rejectedFrames: 0 };

  constructor(ws: WebSocket, opts: TunnelOptions = {}) {
    super();
    this.#ws = ws;
    this.#window = opts.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.#maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#log = opts.log ?? logger('tunnel');
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('close', () => this.#onClose());
    ws.on('error', (err: Error) => this.#log.warn({ err }, 'tunnel connection error'));
    const keepaliveMs = opts.keepaliveMs ?? 0;
    if (keepaliveMs > 0) {
      ws.on('pong', () => {
        this.#awaitingPong = false;
      });
      this.#keepalive = setInterval(() => {
        if (this.#awaitingPong) {
          this.#log.warn('tunnel peer stopped answering pings, dropping the connection');
          ws.terminate();
          return;
        }
        this.#awaitingPong = true;
        ws.ping();
      }, keepaliveMs);
      this.#keepalive.unref();
    }
    if (ws.readyState > 1) queueMicrotask(() => this.#onClose());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream; the peer gets a 'stream' event with `header`. */
  open(header: StreamHeader): TunnelStream {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    const s = new TunnelStream(this, id, true, header, this.#window, 0, this.#idleMs);
    if (this.#closed) {
      process.nextTick(() => s.fail(new TunnelError('KE_TUNNEL_CLOSED', 'tunnel is closed')));
      return s;
    }
    if (this.#streams.size >= this.#maxStreams) {
      process.nextTick(() => s.fail(new TunnelError('KE_TUNNEL_LIMIT', `tunnel has ${this.#maxStreams} streams open already`)));
      return s;
    }
    this.#streams.set(s.key, s);
    this.stats.streamsOpened++;
    this.#sendControl(encodeFrame(FrameType.OPEN, id, true, Buffer.concat([uint32(this.#window), Buffer.from(JSON.stringify(header))])));
    return s;
  }

  close(code = 1000, reason = 'closing'): void {
    if (this.#ws.readyState <= 1) this.#ws.close(code, reason);
    this.#onClose();
  }

  // --- used by TunnelStream ----------------------------------------------------------------------------------
  schedule(s: TunnelStream): void {
    if (s.queued || this.#closed) return;
    s.queued = true;
    this.#ready.push(s);
    this.#pump();
  }

  sendCredit(s: TunnelStream, n: number): void {
    this.#sendControl(encodeFrame(FrameType.CREDIT, s.id, s.local, uint32(n)));
  }

  sendReset(s: TunnelStream, reason: string): void {
    if (!this.#streams.has(s.key)) return;
    this.stats.resets++;
    this.#sendControl(encodeFrame(FrameType.RESET, s.id, s.local, Buffer.from(reason.slice(0, 512))));
  }

  forget(s: TunnelStream): void {
    if (this.#streams.get(s.key) === s) this.#streams.delete(s.key);
  }

  // --- internals ----------------------------------------------------------------------------------------------
  #pump(): void {
    while (this.#inflight < WRITER_HIGH_WATER && this.#ready.length > 0 && !this.#closed) {
      const s = this.#ready.shift() as TunnelStream;
      s.queued = false;
      const out = s.takeFrame();
      if (s.sendable()) {
        s.queued = true;
        this.#ready.push(s);
      }
      if (out === undefined) continue;
      const len = out.frame.length;
      this.#inflight += len;
      this.#ws.send(out.frame, (err) => {
        this.#inflight -= len;
        out.done?.(err ?? null);
        this.#pump();
      });
    }
  }

  #sendControl(frame: Buffer): void {
    if (this.#closed || this.#ws.readyState !== 1) return;
    this.#ws.send(frame);
  }

  #reject(detail: string): void {
    this.stats.rejectedFrames++;
    this.#log.warn({ detail, rejected: this.stats.rejectedFrames }, 'malformed tunnel frame dropped');
  }

  #onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) return this.#reject('text frame on a binary tunnel');
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const decoded = decodeFrame(buf);
    if (!decoded.ok) return this.#reject(decoded.detail);
    const f = decoded.frame;
    if (f.type === FrameType.OPEN) return this.#onOpen(f);
    // The sender's opener bit is from its side: set means the sender opened it, which is our remote-opened stream.
    const s = this.#streams.get((f.opener ? 'r' : 'l') + f.id);
    if (s === undefined) return; // reset or finished already; late frames are normal
    switch (f.type) {
      case FrameType.DATA:
        return s.onData(f.payload);
      case FrameType.CREDIT:
        return s.onCredit(f.payload.readUInt32BE(0));
      case FrameType.FIN:
        return s.onFin();
      case FrameType.RESET:
        this.#streams.delete(s.key);
        return s.onReset(f.payload.toString('utf8') || 'reset by peer');
    }
  }

  #onOpen(f: Frame): void {
    if (!f.opener) return this.#reject('OPEN frame without the opener bit');
    const refuse = (reason: string): void => {
      this.stats.resets++;
      this.#sendControl(encodeFrame(FrameType.RESET, f.id, false, Buffer.from(reason)));
    };
    if (this.#streams.has(`r${f.id}`)) {
      this.#reject(`OPEN for stream ${f.id} that is open already`);
      return refuse('duplicate stream id');
    }
    const window = f.payload.readUInt32BE(0);
    const raw = f.payload.subarray(4);
    let header: unknown;
    try {
      if (raw.length > MAX_HEADER_BYTES) throw new Error(`header of ${raw.length} bytes is over ${MAX_HEADER_BYTES}`);
      header = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      this.#reject(`stream header: ${describeError(err)}`);
      return refuse('malformed stream header');
    }
    if (typeof header !== 'object' || header === null || typeof (header as { kind?: unknown }).kind !== 'string') {
      this.#reject('stream header without a string kind');
      return refuse('malformed stream header');
    }
    if (this.#streams.size >= this.#maxStreams) {
      this.#log.warn({ maxStreams: this.#maxStreams }, 'tunnel stream refused: too many streams');
      return refuse('too many streams');
    }
    const s = new TunnelStream(this, f.id, false, header as StreamHeader, this.#window, window, this.#idleMs);
    this.#streams.set(s.key, s);
    this.stats.streamsAccepted++;
    this.#sendControl(encodeFrame(FrameType.CREDIT, f.id, false, uint32(this.#window)));
    if (this.listenerCount('stream') === 0) {
      s.reset('no handler for streams on this side');
      return;
    }
    this.emit('stream', s.header, s);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
    this.#ready.length = 0;
    for (const s of [...this.#streams.values()]) {
      this.#streams.delete(s.key);
      s.fail(new TunnelError('KE_TUNNEL_CLOSED', 'tunnel connection closed'));
    }
    this.emit('close');
  }
}
