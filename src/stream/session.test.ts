import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { type FakeSocket, fakeSocketPair } from './fake-socket.test-kit.ts';
import { decodeFrame, encodeFrame, FrameType } from './frame.ts';
import { type StreamHeader, type TunnelOptions, TunnelSession } from './session.ts';
import { StreamResetError } from './errors.ts';

const log = pino({ level: 'silent' });

function pair(opts: TunnelOptions = {}): { a: TunnelSession; b: TunnelSession; fa: FakeSocket; fb: FakeSocket } {
  const [wa, wb, fa, fb] = fakeSocketPair();
  return { a: new TunnelSession(wa, { log, ...opts }), b: new TunnelSession(wb, { log, ...opts }), fa, fb };
}

function nextStream(s: TunnelSession): Promise<[StreamHeader, Duplex]> {
  return once(s, 'stream') as Promise<[StreamHeader, Duplex]>;
}

async function readAll(s: Duplex): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** DATA bytes a fake socket carried for one stream id opened by that side. */
function dataBytes(f: FakeSocket, id: number): number {
  let n = 0;
  for (const raw of f.sent) {
    const d = decodeFrame(raw);
    if (d.ok && d.frame.type === FrameType.DATA && d.frame.id === id && d.frame.opener) n += d.frame.payload.length;
  }
  return n;
}

test('a stream carries its header and bytes both ways, and half-close ends each direction on its own', async () => {
  const { a, b } = pair();
  const accepted = nextStream(b);
  const s = a.open({ kind: 'kubelet', path: '/containerLogs/default/p/c' });
  const [header, remote] = await accepted;
  assert.deepEqual(header, { kind: 'kubelet', path: '/containerLogs/default/p/c' });
  s.end('GET / HTTP/1.1\r\n\r\n');
  assert.equal((await readAll(remote)).toString(), 'GET / HTTP/1.1\r\n\r\n');
  // the accepting side can still answer after the opener finished writing
  remote.end('HTTP/1.1 200 OK\r\n\r\nhello');
  assert.equal((await readAll(s)).toString(), 'HTTP/1.1 200 OK\r\n\r\nhello');
  await new Promise((r) => setImmediate(r));
  assert.equal(a.streamCount, 0, 'a finished stream is forgotten');
  a.close();
});

test('a large transfer arrives intact through the credit window (4 MiB through a 64 KiB window)', async () => {
  const { a, b } = pair({ windowBytes: 64 * 1024 });
  const accepted = nextStream(b);
  const s = a.open({ kind: 'copy' });
  const payload = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
  s.end(payload);
  const [, remote] = await accepted;
  const got = await readAll(remote);
  assert.equal(got.length, payload.length);
  assert.ok(got.equals(payload), 'same bytes in the same order');
  a.close();
});

test('backpressure: a stream nobody reads stops its producer at the window and does not hold up another stream', async () => {
  const windowBytes = 64 * 1024;
  const { a, b, fa } = pair({ windowBytes });
  const first = nextStream(b);
  const stuck = a.open({ kind: 'stuck' });
  const [, stuckRemote] = await first;
  stuckRemote.pause(); // never read
  // the producer writes 2 MiB without waiting for 'drain'
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let i = 0; i < 32; i++) stuck.write(chunk);
  assert.equal(stuck.write(chunk), false, 'write() tells the producer to wait');

  const second = nextStream(b);
  const live = a.open({ kind: 'live' });
  const [, liveRemote] = await second;
  const big = Buffer.alloc(1024 * 1024, 2);
  live.end(big);
  const got = await readAll(liveRemote);
  assert.equal(got.length, big.length, 'the other stream got all its bytes while the first was stuck');

  const carried = dataBytes(fa, stuck.id);
  assert.ok(carried <= windowBytes, `the stuck stream put ${carried} bytes on the wire, at most its window ${windowBytes}`);
  assert.ok(carried > 0);
  // once read, the stuck stream resumes and delivers everything
  stuck.end();
  const rest = await readAll(stuckRemote);
  assert.equal(rest.length, 33 * chunk.length);
  a.close();
});

test('the writer is fair: two busy streams interleave their frames instead of one going first', async () => {
  const { a, b, fa } = pair({ windowBytes: 8 * 1024 * 1024 });
  const got: Promise<Buffer>[] = [];
  b.on('stream', (_h, s) => got.push(readAll(s)));
  const s1 = a.open({ kind: 'one' });
  const s2 = a.open({ kind: 'two' });
  await new Promise((r) => setTimeout(r, 20)); // both have their credit
  fa.sent.length = 0;
  s1.end(Buffer.alloc(2 * 1024 * 1024, 1));
  s2.end(Buffer.alloc(2 * 1024 * 1024, 2));
  const [g1, g2] = await Promise.all(got);
  assert.equal(g1?.length, 2 * 1024 * 1024);
  assert.equal(g2?.length, 2 * 1024 * 1024);
  const order = fa.sent
    .map((raw) => decodeFrame(raw))
    .filter((d) => d.ok && d.frame.type === FrameType.DATA)
    .map((d) => (d.ok ? d.frame.id : 0));
  const firstHalf = order.slice(0, Math.floor(order.length / 2));
  assert.ok(firstHalf.includes(s1.id) && firstHalf.includes(s2.id), 'both streams progress in the first half of the transfer');
  a.close();
});

test('maxStreams: opening beyond the local limit fails with KE_TUNNEL_LIMIT', async () => {
  const { a, b } = pair({ maxStreams: 2 });
  b.on('stream', () => {});
  a.open({ kind: 'x' });
  a.open({ kind: 'x' });
  await new Promise((r) => setTimeout(r, 10));
  // a's own limit refuses a third one locally
  const local = a.open({ kind: 'x' });
  const [localErr] = (await once(local, 'error')) as [Error & { code?: string }];
  assert.equal(localErr.code, 'KE_TUNNEL_LIMIT');
  a.close();
});

test('an OPEN over the peer limit is reset: the opener gets "too many streams"', async () => {
  const [wa, wb] = fakeSocketPair();
  const a = new TunnelSession(wa, { log, maxStreams: 10 });
  const b = new TunnelSession(wb, { log, maxStreams: 1 });
  b.on('stream', () => {});
  a.open({ kind: 'x' });
  const over = a.open({ kind: 'x' });
  const [err] = (await once(over, 'error')) as [StreamResetError];
  assert.ok(err instanceof StreamResetError);
  assert.equal(err.reason, 'too many streams');
  a.close();
  b.close();
});

test('an idle stream is reset with "idle timeout" on both sides', async () => {
  const { a, b } = pair({ idleTimeoutMs: 50 });
  const accepted = nextStream(b);
  const s = a.open({ kind: 'idle' });
  const [, remote] = await accepted;
  const [[e1], [e2]] = (await Promise.all([once(s, 'error'), once(remote, 'error')])) as [[StreamResetError], [StreamResetError]];
  assert.match(e1.reason, /idle timeout/);
  assert.match(e2.reason, /idle timeout/);
  a.close();
});

test('reset(reason) reaches the peer as an error with that reason', async () => {
  const { a, b } = pair();
  const accepted = nextStream(b);
  const s = a.open({ kind: 'relay', node: 'B' });
  const [, remote] = await accepted;
  (remote as unknown as { reset(r: string): void }).reset('node B has no mesh session');
  const [err] = (await once(s, 'error')) as [StreamResetError];
  assert.equal(err.code, 'KE_TUNNEL_RESET');
  assert.equal(err.reason, 'node B has no mesh session');
  a.close();
});

test('malformed frames are dropped and counted; the session keeps working', async () => {
  const { a, b, fa } = pair();
  fa.inject('not binary', false);
  fa.inject(Buffer.from([1, 2]));
  fa.inject(Buffer.from([99, 0, 0, 0, 1]));
  fa.inject(encodeFrame(FrameType.OPEN, 7, true, Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.from('{nope')])));
  fa.inject(encodeFrame(FrameType.OPEN, 8, true, Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.from('{"no":"kind"}')])));
  fa.inject(encodeFrame(FrameType.CREDIT, 9, true, Buffer.from([1])));
  assert.equal(b.stats.rejectedFrames, 6);
  const accepted = nextStream(b);
  const s = a.open({ kind: 'after' });
  s.end('still fine');
  const [, remote] = await accepted;
  assert.equal((await readAll(remote)).toString(), 'still fine');
  a.close();
});

test('a peer that ignores the window gets its stream reset instead of buffering without bound', async () => {
  const { a, b, fa } = pair({ windowBytes: 1024 });
  const accepted = nextStream(b);
  const s = a.open({ kind: 'greedy' });
  const [, remote] = await accepted;
  remote.pause();
  const failed = once(remote, 'error');
  const opener = once(s, 'error');
  fa.inject(encodeFrame(FrameType.DATA, s.id, true, Buffer.alloc(4096)));
  const [err] = (await failed) as [StreamResetError];
  const [peerErr] = (await opener) as [StreamResetError];
  assert.equal(peerErr.reason, err.reason, 'the sender is told why');
  assert.match(err.reason, /window exceeded/);
  a.close();
});

test('when the connection closes, open streams fail with KE_TUNNEL_CLOSED and the session says close', async () => {
  const { a, b, fb } = pair();
  const accepted = nextStream(b);
  const s = a.open({ kind: 'x' });
  const [, remote] = await accepted;
  const closed = once(a, 'close');
  fb.close();
  const [[err]] = (await Promise.all([once(s, 'error'), closed])) as [[Error & { code: string }], unknown];
  assert.equal(err.code, 'KE_TUNNEL_CLOSED');
  assert.equal(a.closed, true);
  assert.ok(remote.destroyed || (await once(remote, 'close')));
  const late = a.open({ kind: 'late' });
  const [lateErr] = (await once(late, 'error')) as [Error & { code: string }];
  assert.equal(lateErr.code, 'KE_TUNNEL_CLOSED');
});
