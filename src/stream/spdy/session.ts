import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import {
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameReader,
  FrameType,
  RstStatus,
  SPDY_VERSION,
  encodeControl,
  encodeData,
  streamIdPayload,
  synStreamPayload,
  u32Pair,
  type ControlFrame,
  type DataFrame,
  type Frame,
} from './frames.ts';
import { HeaderCodec, type SpdyHeaders } from './headers.ts';

export type SpdySessionOptions = {
  /** Server side opens even stream ids and answers odd pings; the client the reverse. */
  server: boolean;
  /** Streams the peer may hold open at once; more are refused (RST_STREAM REFUSED_STREAM). */
  maxStreams?: number;
  /** Largest frame payload accepted from the peer. */
  maxFramePayload?: number;
  log?: Logger;
};

/** Largest DATA payload we send in one frame (big writes are split so streams interleave). */
const DATA_CHUNK = 32 * 1024;

/**
 * One SPDY stream as a Node Duplex: readable = the peer's DATA, writable = ours. Ending the writable side sends
 * FIN; the readable side ends on the peer's FIN. A reset destroys it (`resetStatus` says why).
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  resetStatus: number | undefined;
  readonly #session: SpdySession;
  #replied = false;
  /** Set once we sent FIN or RST. */
  localDone = false;
  /** Set once the peer sent FIN or RST. */
  remoteDone = false;

  constructor(session: SpdySession, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.headers = headers;
  }

  /** SYN_REPLY: accepts a stream the peer opened. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.#replied) return;
    this.#replied = true;
    this.#session.sendReply(this.id, headers);
  }

  /** RST_STREAM: abandons the stream at once. */
  reset(status: number = RstStatus.cancel): void {
    this.#session.sendReset(this.id, status);
    this.localDone = true;
    this.remoteDone = true;
    this.#session.forget(this.id);
    this.destroy();
  }

  override _read(): void {
    this.#session.resumeReading(this.id);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#session.resumeReading(this.id);
    cb(err);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localDone || this.#session.closed) {
      // The peer is gone or we ended: bytes written now have nowhere to go (a late writer is not an error).
      cb();
      return;
    }
    this.#session.sendData(this.id, chunk, false).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.localDone || this.#session.closed) {
      cb();
      return;
    }
    this.localDone = true;
    this.#session.sendData(this.id, Buffer.alloc(0), true).then(() => {
      this.#session.maybeForget(this);
      cb();
    }, cb);
  }

  /** @internal the peer's bytes. Returns false when the reader is behind. */
  deliver(data: Buffer): boolean {
    return this.push(data);
  }

  /** @internal the peer's FIN. */
  remoteEnd(): void {
    if (this.remoteDone) return;
    this.remoteDone = true;
    this.push(null);
    this.#session.maybeForget(this);
  }
}

type Pending = { resolve(s: SpdyStream): void; reject(err: Error): void; stream: SpdyStream };

/**
 * A SPDY/3.1 session over one socket, either side: streams (SYN_STREAM / SYN_REPLY / DATA / RST_STREAM), PING
 * echo, GOAWAY, SETTINGS ignored. Like moby/spdystream (the Kubernetes peer) it keeps no flow-control windows:
 * the peer sends no WINDOW_UPDATE, so a window would stall every stream after 64 KiB. Backpressure comes from the
 * socket instead: writes resolve when the socket drains, and the socket is paused while a reader is behind.
 * Frame handling is serialised (header blocks share one zlib state per direction).
 */
export class SpdySession extends EventEmitter {
  readonly #socket: Duplex;
  readonly #o: SpdySessionOptions;
  readonly #reader: FrameReader;
  readonly #codec = new HeaderCodec();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #pending = new Map<number, Pending>();
  /** Streams whose reader is behind: the socket stays paused while there is one. */
  readonly #behind = new Set<number>();
  #nextId: number;
  #nextPing: number;
  #inbound: Promise<void> = Promise.resolve();
  #outbound: Promise<void> = Promise.resolve();
  #closed = false;
  #goneAway = false;
  #lastRemoteId = 0;
  /** Frames the peer sent that we refused (malformed or out of limits). */
  rejectedFrames = 0;

  constructor(socket: Duplex, o: SpdySessionOptions) {
    super();
    this.#socket = socket;
    this.#o = o;
    this.#reader = new FrameReader(o.maxFramePayload);
    this.#nextId = o.server ? 2 : 1;
    this.#nextPing = o.server ? 2 : 1;
    socket.on('data', (c: Buffer) => this.#onBytes(c));
    socket.on('close', () => this.#teardown());
    socket.on('end', () => this.#teardown());
    socket.on('error', (err) => {
      this.#o.log?.debug({ err }, 'spdy socket error');
      this.#teardown();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens a stream and resolves once the peer replied (rejects on reset or close). */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean; priority?: number } = {}): Promise<SpdyStream> {
    if (this.#closed || this.#goneAway) return Promise.reject(new Error('SPDY session is closed'));
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.#streams.set(id, stream);
    if (opts.fin) {
      stream.localDone = true;
      stream.end();
    }
    const p = new Promise<SpdyStream>((resolve, reject) => this.#pending.set(id, { resolve, reject, stream }));
    this.#enqueueWrite(async () => {
      const block = await this.#codec.compress(headers);
      return encodeControl(FrameType.synStream, opts.fin ? FLAG_FIN : 0, synStreamPayload(id, 0, opts.priority ?? 0, block));
    }).catch(() => undefined);
    return p;
  }

  /** Closes politely: GOAWAY, then the socket once written. */
  close(): void {
    if (this.#closed) return;
    if (!this.#goneAway) {
      this.#goneAway = true;
      this.#enqueueWrite(async () => encodeControl(FrameType.goAway, 0, u32Pair(this.#lastRemoteId, 0))).catch(() => undefined);
    }
    this.#outbound.finally(() => this.#socket.end()).catch(() => undefined);
  }

  destroy(): void {
    this.#socket.destroy();
    this.#teardown();
  }

  // --- used by SpdyStream

  sendReply(id: number, headers: SpdyHeaders): void {
    this.#enqueueWrite(async () => encodeControl(FrameType.synReply, 0, streamIdPayload(id, await this.#codec.compress(headers)))).catch(() => undefined);
  }

  sendReset(id: number, status: number): void {
    this.#enqueueWrite(async () => encodeControl(FrameType.rstStream, 0, u32Pair(id, status))).catch(() => undefined);
  }

  async sendData(id: number, data: Buffer, fin: boolean): Promise<void> {
    if (data.length === 0) {
      await this.#enqueueWrite(async () => encodeData(id, data, fin ? FLAG_FIN : 0));
      return;
    }
    for (let off = 0; off < data.length; off += DATA_CHUNK) {
      const part = data.subarray(off, off + DATA_CHUNK);
      const last = off + DATA_CHUNK >= data.length;
      await this.#enqueueWrite(async () => encodeData(id, part, fin && last ? FLAG_FIN : 0));
    }
  }

  resumeReading(id: number): void {
    this.#behind.delete(id);
    if (this.#behind.size === 0 && !this.#closed) this.#socket.resume();
  }

  maybeForget(s: SpdyStream): void {
    if (s.localDone && s.remoteDone) this.forget(s.id);
  }

  forget(id: number): void {
    this.#streams.delete(id);
    this.resumeReading(id);
  }

  // --- internals

  /** Writes in order; resolves once the socket took the frame (after 'drain' when it was full). */
  #enqueueWrite(make: () => Promise<Buffer>): Promise<void> {
    const p = this.#outbound.then(async () => {
      if (this.#closed) throw new Error('SPDY session is closed');
      const frame = await make();
      if (this.#socket.write(frame)) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#socket.off('drain', done);
          this.#socket.off('close', done);
          resolve();
        };
        this.#socket.on('drain', done);
        this.#socket.on('close', done);
      });
    });
    this.#outbound = p.catch(() => undefined);
    return p;
  }

  #onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.#protocolError(err, 'unreadable frame');
      return;
    }
    for (const f of frames) {
      this.#inbound = this.#inbound.then(() => this.#handle(f)).catch((err: unknown) => this.#protocolError(err, 'bad frame'));
    }
  }

  #protocolError(err: unknown, what: string): void {
    this.rejectedFrames++;
    this.#o.log?.warn({ err }, `spdy: ${what}; closing the session`);
    if (!this.#closed && !this.#goneAway) {
      this.#goneAway = true;
      this.#enqueueWrite(async () => encodeControl(FrameType.goAway, 0, u32Pair(this.#lastRemoteId, 1))).catch(() => undefined);
    }
    this.#outbound.finally(() => this.destroy()).catch(() => undefined);
  }

  async #handle(f: Frame): Promise<void> {
    if (this.#closed) return;
    if (f.kind === 'data') {
      this.#onData(f);
      return;
    }
    if (f.version !== SPDY_VERSION) throw new Error(`SPDY version ${f.version} is not 3`);
    await this.#onControl(f);
  }

  #onData(f: DataFrame): void {
    const s = this.#streams.get(f.streamId);
    if (!s || s.remoteDone) {
      // spdystream answers data on an unknown stream with nothing; a reset tells the peer to stop.
      if (f.data.length > 0) this.sendReset(f.streamId, RstStatus.invalidStream);
      return;
    }
    const fin = (f.flags & FLAG_FIN) !== 0;
    // A reader that is behind pauses the socket (all streams) until it reads again; after FIN nothing more
    // comes for it, so it holds nobody up.
    if (f.data.length > 0 && !s.deliver(f.data) && !fin) {
      this.#behind.add(s.id);
      this.#socket.pause();
    }
    if (fin) s.remoteEnd();
  }

  async #onControl(f: ControlFrame): Promise<void> {
    const p = f.payload;
    switch (f.type) {
      case FrameType.synStream: {
        if (p.length < 10) throw new Error('short SYN_STREAM');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.#codec.decompress(p.subarray(10));
        const ownParity = this.#o.server ? 0 : 1;
        if (id === 0 || id % 2 === ownParity || id <= this.#lastRemoteId) {
          this.sendReset(id, RstStatus.protocolError);
          return;
        }
        this.#lastRemoteId = id;
        if (this.#goneAway || this.#streams.size >= (this.#o.maxStreams ?? 1000)) {
          this.rejectedFrames++;
          this.sendReset(id, RstStatus.refusedStream);
          return;
        }
        const s = new SpdyStream(this, id, headers);
        this.#streams.set(id, s);
        if (f.flags & FLAG_UNIDIRECTIONAL) {
          s.localDone = true;
          s.end();
        }
        if (f.flags & FLAG_FIN) s.remoteEnd();
        this.emit('stream', s);
        return;
      }
      case FrameType.synReply: {
        if (p.length < 4) throw new Error('short SYN_REPLY');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        await this.#codec.decompress(p.subarray(4));
        const pend = this.#pending.get(id);
        if (!pend) return;
        this.#pending.delete(id);
        pend.resolve(pend.stream);
        if (f.flags & FLAG_FIN) pend.stream.remoteEnd();
        return;
      }
      case FrameType.rstStream: {
        if (p.length < 8) throw new Error('short RST_STREAM');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const status = p.readUInt32BE(4);
        const s = this.#streams.get(id);
        this.forget(id);
        const pend = this.#pending.get(id);
        if (pend) {
          this.#pending.delete(id);
          pend.reject(new Error(`SPDY stream ${id} was reset (status ${status})`));
        }
        if (s) {
          // Kubernetes closes a finished exec by resetting every stream (after the Status was written), so a reset
          // ends the data as spdystream does: what arrived is kept and read to EOF, nothing more is sent.
          s.resetStatus = status;
          s.localDone = true;
          s.remoteEnd();
        }
        return;
      }
      case FrameType.headers: {
        if (p.length < 4) throw new Error('short HEADERS');
        await this.#codec.decompress(p.subarray(4));
        if (f.flags & FLAG_FIN) this.#streams.get(p.readUInt32BE(0) & 0x7fffffff)?.remoteEnd();
        return;
      }
      case FrameType.ping: {
        if (p.length < 4) throw new Error('short PING');
        const id = p.readUInt32BE(0);
        // The peer's pings (other parity) are echoed; ours coming back need nothing.
        if (id % 2 !== this.#nextPing % 2) this.#enqueueWrite(async () => encodeControl(FrameType.ping, 0, Buffer.from(p))).catch(() => undefined);
        return;
      }
      case FrameType.goAway:
        this.#goneAway = true;
        this.emit('goaway');
        if (this.#streams.size === 0) this.close();
        return;
      case FrameType.settings:
      case FrameType.windowUpdate:
        return;
      default:
        // Unknown control frames must be ignored (draft 3, 2.2.1).
        return;
    }
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new Error('SPDY session closed'));
    this.#pending.clear();
    // As spdystream does: a closed connection is the end of every stream's data (readers get EOF, not an
    // error, and keep what was buffered); nothing more can be written.
    for (const s of this.#streams.values()) {
      s.localDone = true;
      s.remoteEnd();
    }
    this.#streams.clear();
    this.#codec.close();
    this.emit('close');
  }
}
