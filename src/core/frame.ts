import { toMessage, type Message } from './message.ts';
import { describeError } from './errors.ts';

/** Why an inbound frame was dropped; also the keys of the rejected-frame counters. */
export type FrameRejectReason = 'oversize' | 'not_json' | 'invalid_message';

export type DecodedFrame = { ok: true; msg: Message } | { ok: false; reason: FrameRejectReason; detail: string };

type RawData = Buffer | ArrayBuffer | Buffer[];

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * One WebSocket frame -> one beehive message. Text and binary frames are both accepted, as gorilla's ReadJSON
 * does; the trailing `\n` that Go's json.Encoder writes is whitespace to JSON.parse.
 */
export function decodeFrame(data: RawData, maxBytes: number): DecodedFrame {
  const buf = toBuffer(data);
  if (buf.length > maxBytes) return { ok: false, reason: 'oversize', detail: `${buf.length} bytes > ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: describeError(err) };
  }
  try {
    return { ok: true, msg: toMessage(value) };
  } catch (err) {
    return { ok: false, reason: 'invalid_message', detail: describeError(err) };
  }
}

/** Like KubeEdge's encoder: one JSON document per text frame, terminated by `\n`. */
export function encodeFrame(msg: Message): string {
  return `${JSON.stringify(msg)}\n`;
}
