import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';

/**
 * SPDY/3 header blocks: a count, then length-prefixed lowercase names and values (several values joined by NUL),
 * all 32-bit big-endian, compressed with one zlib stream per direction (preset dictionary, sync flush per block).
 */
export type SpdyHeaders = Record<string, string>;

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase(), 'utf8');
    const value = Buffer.from(v, 'utf8');
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed block; a truncated block throws. Repeated values stay NUL-joined, as on the wire. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let off = 0;
  const need = (n: number): void => {
    if (off + n > block.length) throw new RangeError('SPDY header block is truncated');
  };
  need(4);
  const count = block.readUInt32BE(off);
  off += 4;
  const out: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = block.readUInt32BE(off);
    off += 4;
    need(nl);
    const name = block.toString('utf8', off, off + nl);
    off += nl;
    need(4);
    const vl = block.readUInt32BE(off);
    off += 4;
    need(vl);
    out[name.toLowerCase()] = block.toString('utf8', off, off + vl);
    off += vl;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Runs one chunk through a long-lived zlib stream and returns what a sync flush yields. */
function pump(z: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer): void => {
      out.push(c);
    };
    const onError = (err: Error): void => {
      z.off('data', onData);
      reject(err);
    };
    z.on('data', onData);
    z.once('error', onError);
    z.write(input);
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(out));
    });
  });
}

/**
 * One direction's header compressor, or decompressor. Calls are serialised: the zlib state is shared by every
 * block of the session, so blocks must pass through in frame order.
 */
export class HeaderCodec {
  readonly #deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION });
  readonly #inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  #encoding: Promise<unknown> = Promise.resolve();
  #decoding: Promise<unknown> = Promise.resolve();

  compress(headers: SpdyHeaders): Promise<Buffer> {
    const p = this.#encoding.then(() => pump(this.#deflate, encodeHeaderBlock(headers)));
    this.#encoding = p.catch(() => undefined);
    return p;
  }

  decompress(block: Buffer): Promise<SpdyHeaders> {
    const p = this.#decoding.then(async () => (block.length === 0 ? {} : decodeHeaderBlock(await pump(this.#inflate, block))));
    this.#decoding = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.#deflate.close();
    this.#inflate.close();
  }
}
