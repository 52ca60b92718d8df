/**
 * Tunnel frame codec. One WebSocket binary message carries one frame:
 *
 *   byte 0      type (low 7 bits) | 0x80 when the stream was opened by the frame's sender
 *   bytes 1-4   stream id (uint32, big endian), unique per opener
 *   bytes 5-    payload: OPEN = uint32 receive window + JSON header; DATA = bytes; CREDIT = uint32 bytes;
 *               FIN = empty; RESET = UTF-8 reason
 *
 * The opener bit gives each side its own id space, so neither side needs to know whether it dialled or accepted.
 */
export const FrameType = { OPEN: 1, DATA: 2, CREDIT: 3, FIN: 4, RESET: 5 } as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export type Frame = { type: FrameTypeCode; id: number; opener: boolean; payload: Buffer };

export type DecodedTunnelFrame = { ok: true; frame: Frame } | { ok: false; detail: string };

const HEADER_BYTES = 5;
const OPENER_BIT = 0x80;
const KNOWN = new Set<number>(Object.values(FrameType));

export function encodeFrame(type: FrameTypeCode, id: number, opener: boolean, payload?: Buffer): Buffer {
  const len = payload?.length ?? 0;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len);
  buf[0] = type | (opener ? OPENER_BIT : 0);
  buf.writeUInt32BE(id >>> 0, 1);
  if (payload !== undefined && len > 0) payload.copy(buf, HEADER_BYTES);
  return buf;
}

export function decodeFrame(data: Buffer): DecodedTunnelFrame {
  if (data.length < HEADER_BYTES) return { ok: false, detail: `frame of ${data.length} bytes is shorter than its header` };
  const first = data[0] ?? 0;
  const type = first & ~OPENER_BIT;
  if (!KNOWN.has(type)) return { ok: false, detail: `unknown frame type ${type}` };
  const frame: Frame = {
    type: type as FrameTypeCode,
    id: data.readUInt32BE(1),
    opener: (first & OPENER_BIT) !== 0,
    payload: data.subarray(HEADER_BYTES),
  };
  if ((frame.type === FrameType.CREDIT || frame.type === FrameType.OPEN) && frame.payload.length < 4) {
    return { ok: false, detail: `${frame.type === FrameType.OPEN ? 'OPEN' : 'CREDIT'} frame without its 4-byte window` };
  }
  return { ok: true, frame };
}

export function uint32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
