import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { FrameReader, FrameType, encodeControl } from './frames.ts';
import { HeaderCodec, decodeHeaderBlock, encodeHeaderBlock } from './headers.ts';
import { SpdySession, type SpdyStream } from './session.ts';

test('the SPDY/3 dictionary is the 1423 bytes every SPDY/3 peer presets (sha256 pinned)', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
});

/** A SYN_STREAM as kube-apiserver's client sends it for exec's stdout stream, laid out byte by byte from the spec. */
function recordedSynStream(id: number, block: Buffer): Buffer {
  const head = Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0, 0, 0]);
  head.writeUIntBE(10 + block.length, 5, 3);
  const body = Buffer.alloc(10);
  body.writeUInt32BE(id, 0);
  return Buffer.concat([head, body, block]);
}

test('a SYN_STREAM laid out by hand, header block deflated with the dictionary, parses to its stream id and headers', async () => {
  const plain = Buffer.concat([
    Buffer.from([0, 0, 0, 1]),
    Buffer.from([0, 0, 0, 10]),
    Buffer.from('streamtype'),
    Buffer.from([0, 0, 0, 6]),
    Buffer.from('stdout'),
  ]);
  assert.deepEqual(decodeHeaderBlock(plain), { streamtype: 'stdout' });
  assert.deepEqual(encodeHeaderBlock({ streamType: 'stdout' }), plain);
  const block = zlib.deflateSync(plain, { dictionary: SPDY3_DICTIONARY, flush: zlib.constants.Z_SYNC_FLUSH });
  const frames = new FrameReader().push(recordedSynStream(3, block));
  assert.equal(frames.length, 1);
  const f = frames[0];
  assert.ok(f?.kind === 'control');
  assert.equal(f.type, FrameType.synStream);
  assert.equal(f.version, 3);
  assert.equal(f.payload.readUInt32BE(0), 3);
  const codec = new HeaderCodec();
  assert.deepEqual(await codec.decompress(f.payload.subarray(10)), { streamtype: 'stdout' });
  codec.close();
});

test('header blocks share one zlib stream per direction: the second block only inflates after the first', async () => {
  const a = new HeaderCodec();
  const b = new HeaderCodec();
  const first = await a.compress({ streamtype: 'error' });
  const second = await a.compress({ streamtype: 'stdin' });
  assert.deepEqual(await b.decompress(first), { streamtype: 'error' });
  assert.deepEqual(await b.decompress(second), { streamtype: 'stdin' });
  const fresh = new HeaderCodec();
  await assert.rejects(fresh.decompress(second));
  for (const c of [a, b, fresh]) c.close();
});

test('frames split across reads are reassembled; an oversized declared length is refused', () => {
  const frame = encodeControl(FrameType.ping, 0, Buffer.from([0, 0, 0, 1]));
  const r = new FrameReader();
  assert.equal(r.push(frame.subarray(0, 5)).length, 0);
  assert.equal(r.push(frame.subarray(5)).length, 1);
  assert.throws(() => new FrameReader(16).push(encodeControl(FrameType.ping, 0, Buffer.alloc(32))), /over the 16 byte limit/);
});

async function pair(serverOpts: { maxStreams?: number } = {}): Promise<{ server: SpdySession; client: SpdySession; raw: net.Socket; done(): void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, 'connection');
  const raw = net.connect(port, '127.0.0.1');
  const [sock] = (await accepted) as [net.Socket];
  const server = new SpdySession(sock, { server: true, ...serverOpts });
  const client = new SpdySession(raw, { server: false });
  return {
    server,
    client,
    raw,
    done: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

async function readAll(s: SpdyStream): Promise<string> {
  let text = '';
  for await (const c of s) text += (c as Buffer).toString();
  return text;
}

test('client and server sessions: streams with headers, data both ways, FIN, many interleaved streams', async () => {
  const { server, client, done } = await pair();
  server.on('stream', (s: SpdyStream) => {
    s.reply();
    if (s.headers['streamtype'] === 'echo') {
      s.pipe(s);
    } else {
      s.end(`big:${'x'.repeat(200_000)}`);
    }
  });
  const echo = await client.openStream({ streamType: 'echo' });
  const big = await client.openStream({ streamType: 'big' }, { fin: true });
  echo.end('hello spdy');
  const [e, b] = await Promise.all([readAll(echo), readAll(big)]);
  assert.equal(e, 'hello spdy');
  assert.equal(b.length, 200_004);
  done();
});

test('a reset reaches the peer (its reader gets EOF and the status); streams over the limit are refused; a garbage frame closes the session and is counted', async () => {
  const { server, client, raw, done } = await pair({ maxStreams: 1 });
  const got: SpdyStream[] = [];
  server.on('stream', (s: SpdyStream) => {
    got.push(s);
    s.reply();
  });
  const first = await client.openStream({ streamType: 'a' });
  await assert.rejects(client.openStream({ streamType: 'b' }), /reset \(status 3\)/);
  const ended = once(first, 'end');
  first.resume();
  got[0]?.reset();
  await ended;
  assert.equal(first.resetStatus, 5);
  const serverClosed = once(server, 'close');
  raw.write(Buffer.from([0x80, 0x07, 0x00, 0x01, 0, 0, 0, 0]));
  await serverClosed;
  assert.equal(server.rejectedFrames, 2);
  done();
});
