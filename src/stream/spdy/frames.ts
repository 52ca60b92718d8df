/**
 * SPDY/3 frame layout (draft 3, as golang.org/x/net/spdy and moby/spdystream put it on the wire), without header
 * compression: header blocks stay opaque bytes here; headers.ts (de)compresses them.
 *
 *   control: |1| version(15) | type(16) | flags(8) | length(24) | payload
 *   data:    |0| stream-id(31)          | flags(8) | length(24) | payload
 */
export const SPDY_VERSION = 3;

export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
} as const;

/** Largest payload one frame can carry (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type DataFrame = { kind: 'data'; streamId: number; flags: number; data: Buffer };
export type ControlFrame = { kind: 'control'; version: number; type: number; flags: number; payload: Buffer };
export type Frame = DataFrame | ControlFrame;

export function encodeData(streamId: number, data: Buffer, flags = 0): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError('SPDY data frame payload over 16 MiB');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export function encodeControl(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

export function synStreamPayload(streamId: number, associatedTo: number, priority: number, headerBlock: Buffer): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(associatedTo & 0x7fffffff, 4);
  p[8] = (priority & 0x7) << 5;
  p[9] = 0; // credential slot
  return Buffer.concat([p, headerBlock]);
}

export function streamIdPayload(streamId: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([p, rest]);
}

export function u32Pair(a: number, b: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(a >>> 0, 0);
  p.writeUInt32BE(b >>> 0, 4);
  return p;
}

/**
 * Splits a byte stream into frames. `maxPayload` bounds what a peer can make us buffer for one frame; a bigger
 * declared length is a protocol error (the caller closes the session).
 */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  readonly #maxPayload: number;

  constructor(maxPayload = MAX_FRAME_PAYLOAD) {
    this.#maxPayload = maxPayload;
  }

  /** Appends bytes and returns every complete frame. Throws on a frame over the limit. */
  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Frame[] = [];
    while (this.#buf.length >= 8) {
      const word = this.#buf.readUInt32BE(4);
      const length = word & 0xffffff;
      if (length > this.#maxPayload) throw new RangeError(`SPDY frame of ${length} bytes is over the ${this.#maxPayload} byte limit`);
      if (this.#buf.length < 8 + length) break;
      const flags = word >>> 24;
      const payload = this.#buf.subarray(8, 8 + length);
      const first = this.#buf.readUInt32BE(0);
      if (first & 0x80000000) {
        out.push({ kind: 'control', version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload: Buffer.from(payload) });
      } else {
        out.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: Buffer.from(payload) });
      }
      this.#buf = this.#buf.subarray(8 + length);
    }
    return out;
  }
}
