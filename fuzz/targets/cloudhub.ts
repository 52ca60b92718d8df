// CloudHub as cloudcore assembles it (EdgeController, DeviceController, SyncController, the reliable queue) over a
// real embedded API server, on loopback mutual TLS. Each input is a session of an edge: an upgrade with a
// node_id header, then frames (messages with any route and content, JSON that is no message, garbage text and
// bytes, raw bytes beneath the WebSocket framing). Afterwards a well-behaved edge must still connect.
import fc from 'fast-check';
import { connect as tlsConnect } from 'node:tls';
import type WebSocket from 'ws';
import type { TestServer } from '../../test/helpers/apiserver.ts';
import { makePki, rawClient, type LinkPki } from '../../test/helpers/cloudhub.ts';
import { createNode, newApi, startStack, type CloudStack } from '../../test/helpers/downstream.ts';
import { FuzzFailure, type FuzzTarget } from '../lib/harness.ts';
import { frameData, framesFor, type Frame } from '../lib/messages.ts';

type Ctx = { api: TestServer; pki: LinkPki; stack: CloudStack };
export type HubInput = { nodeId: string; frames: Frame[]; handshake: string | undefined };

/** A hand-written upgrade request: headers missing, duplicated, malformed; or not an upgrade at all. */
const handshake = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'GET', 'CONNECT', 'G\u0000T'),
    path: fc.constantFrom('/p1/fz-node/events', '/', '/%', '//', '/p1/../x', `/${'a'.repeat(5000)}`),
    headers: fc.array(
      fc.tuple(
        fc.constantFrom(
          'Upgrade',
          'Connection',
          'Sec-WebSocket-Key',
          'Sec-WebSocket-Version',
          'node_id',
          'project_id',
          'ConnectionUse',
          'Content-Length',
          'Transfer-Encoding',
          'Host',
          'X',
        ),
        fc.oneof(
          fc.constantFrom('websocket', 'Upgrade', 'dGhlIHNhbXBsZSBub25jZQ==', '13', '8', 'fz-node', '', 'msg', '-1', 'chunked', '99999999999'),
          fc.string({ maxLength: 12 }),
        ),
      ),
      { maxLength: 8 },
    ),
    trailer: fc.string({ maxLength: 30, unit: 'binary' }),
  })
  .map((h) => `${h.method} ${h.path} HTTP/1.1\r\n${h.headers.map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`).join('')}\r\n${h.trailer}`);

/** Sends a raw request over TLS (with the edge's certificate) and waits for the hub to answer or hang up. */
function rawHandshake(port: number, pki: LinkPki, text: string): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem, servername: 'localhost' }, () =>
      s.write(text),
    );
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    // An upgrade left half-open is the hub's handshake timeout to close; the input does not wait for it.
    const timer = setTimeout(done, 200);
    s.on('data', () => {});
    s.on('close', done);
    s.on('error', done);
  });
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes a frame; a wire frame goes beneath ws, straight onto the TLS socket. */
export function sendFrame(ws: WebSocket, f: Frame): void {
  if (ws.readyState !== ws.OPEN) return;
  const data = frameData(f);
  if (f.kind === 'wire') (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(data as Buffer);
  else ws.send(data, { binary: f.kind === 'binary' });
}

async function closeHard(c: { ws: WebSocket; closed: Promise<number> }): Promise<void> {
  c.ws.terminate();
  await c.closed;
}

export const cloudhub: FuzzTarget<HubInput, Ctx> = {
  name: 'cloudhub',
  describe: 'CloudHub + cloud controllers over a real API server: edge sessions sending malformed frames and messages',
  async setup() {
    const { api, kube } = await newApi();
    const pki = await makePki();
    await createNode(kube, 'fz-node', true);
    await createNode(kube, 'fz-live', true);
    // Objects the edge's queries and reports can reach: a pod bound to the node, its configmap and secret.
    await kube.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm1' }, data: { a: 'b' } });
    await kube.create('/api/v1/namespaces/default/secrets', { metadata: { name: 's1' }, data: { a: 'Yg==' } });
    await kube.create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'p1' },
      spec: { nodeName: 'fz-node', containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: 'cm1' } }, { secretRef: { name: 's1' } }] }] },
    });
    kube.close();
    const stack = await startStack(api, pki, { retryIntervalMs: 500 });
    return { api, pki, stack };
  },
  arbitrary() {
    return fc.record({
      nodeId: fc.oneof(
        { weight: 6, arbitrary: fc.constant('fz-node') },
        { weight: 1, arbitrary: fc.constantFrom('other-node', 'UPPER', '', 'a'.repeat(300), 'x/../y') },
      ),
      frames: fc.array(framesFor('cloud'), { minLength: 1, maxLength: 6 }),
      handshake: fc.option(handshake, { freq: 4, nil: undefined }),
    });
  },
  async check(ctx, i) {
    const tls = { caPem: ctx.pki.caPem, ...ctx.pki.client };
    if (i.handshake !== undefined) await rawHandshake(ctx.stack.port, ctx.pki, i.handshake);
    let c: Awaited<ReturnType<typeof rawClient>> | undefined;
    try {
      c = await rawClient(ctx.stack.port, tls, { node_id: i.nodeId, project_id: 'p1', ConnectionUse: 'msg' });
    } catch {
      // An invalid node_id is refused at the upgrade, as it must be; the hub is checked below either way.
    }
    if (c !== undefined) {
      for (const f of i.frames) sendFrame(c.ws, f);
      await settle(20);
      await closeHard(c);
    }
    // A well-behaved edge still connects and gets the hub's attention.
    let live: Awaited<ReturnType<typeof rawClient>>;
    try {
      live = await rawClient(ctx.stack.port, tls, { node_id: 'fz-live', project_id: 'p1', ConnectionUse: 'msg' });
    } catch (err) {
      throw new FuzzFailure('crash', `CloudHub refuses a valid edge after the input: ${(err as Error).message}`);
    }
    await closeHard(live);
  },
  async teardown(ctx) {
    await ctx.stack.stop();
    await ctx.api.cleanup();
  },
};
