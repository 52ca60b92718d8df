import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Bus } from '../../../../src/core/bus.ts';
import { newMessage, newResponse } from '../../../../src/core/message.ts';
import { blackholeProxy, makePki, quietLog, Recorder, startCloud, waitFor, type CloudFixture, type LinkPki } from '../../../helpers/cloudhub.ts';
import { Backoff } from '../../../../src/edge/edgehub/backoff.ts';
import { EdgeHub, type EdgeHubOptions } from '../../../../src/edge/edgehub/edgehub.ts';
import { cloudUrl } from '../../../../src/edge/edgehub/ws-client.ts';

const PROJECT = 'e632aba927ea4ac2b575ec1603d56f10';

type EdgeFixture = { bus: Bus; hub: EdgeHub; meta: Recorder; edged: Recorder; stop(): Promise<void> };

async function startEdge(port: number, tls: EdgeHubOptions['tls'], o: Partial<EdgeHubOptions> = {}): Promise<EdgeFixture> {
  const log = quietLog('edgehub-test');
  const bus = new Bus(log);
  const hub = new EdgeHub({
    server: `127.0.0.1:${port}`,
    projectId: PROJECT,
    nodeName: 'edge-x',
    heartbeatSec: 15,
    handshakeTimeoutSec: 5,
    tls,
    backoff: { initialMs: 50, maxMs: 200 },
    ...o,
  });
  // metamanager stand-in: acks every cloud push the way KubeEdge's metamanager does
  const meta = new Recorder(bus, 'metamanager', 'meta', (m) => {
    if (m.route.operation === 'insert' || m.route.operation === 'update' || m.route.operation === 'delete') {
      bus.send('websocket', newResponse(m, 'OK'));
    }
  });
  const edged = new Recorder(bus, 'edged', 'edged');
  const abort = new AbortController();
  await hub.start({ bus, log, signal: abort.signal });
  return {
    bus,
    hub,
    meta,
    edged,
    stop: async () => {
      abort.abort();
      await hub.stop();
      bus.close();
    },
  };
}

let pki: LinkPki;
before(async () => {
  pki = await makePki();
});

const goodTls = (): EdgeHubOptions['tls'] => async () => ({ caPem: pki.caPem, ...pki.client });

describe('edgehub against a real cloudhub', () => {
  let cloud: CloudFixture;
  let edge: EdgeFixture;
  before(async () => {
    cloud = await startCloud(pki);
    // fake edgecontroller: answers edge queries like v1.15.4 does (source edgecontroller, group resource)
    cloud.bus.register('edgecontroller', 'edgecontroller', (m) => {
      cloud.edgecontroller.messages.push(m);
      if (m.route.operation === 'query') {
        cloud.bus.send('cloudhub', newResponse(m, { kind: 'ConfigMap', data: { a: '1' } }, { source: 'edgecontroller', group: 'resource' }));
      }
    });
    edge = await startEdge(cloud.port, goodTls());
  });
  after(async () => {
    await edge.stop();
    await cloud.stop();
  });

  test('connects with KubeEdge headers and path, sends a keepalive at once, broadcasts cloud_connected', async () => {
    await waitFor(() => cloud.hub.isConnected('edge-x'), 'edge session at cloud');
    await waitFor(() => edge.hub.isConnected(), 'edge sees the link up');
    const conn = cloud.hub.connection('edge-x');
    assert.equal(conn?.path, `/${PROJECT}/edge-x/events`);
    assert.equal(conn?.headers['node_id'], 'edge-x');
    assert.equal(conn?.headers['project_id'], PROJECT);
    assert.equal(conn?.headers['connectionuse'], 'msg');
    await waitFor(() => cloud.hub.stats().keepalives >= 1, 'keepalive at cloud');
    await waitFor(() => edge.meta.find((m) => m.content === 'cloud_connected') !== undefined, 'meta told');
    const ev = edge.edged.find((m) => m.route.resource === 'node/connection');
    assert.equal(ev?.content, 'cloud_connected');
    assert.equal(ev?.route.operation, 'connect');
  });

  test('edge request -> cloud edgecontroller -> reply completes the edge waiter', async () => {
    await waitFor(() => edge.hub.isConnected(), 'link');
    const q = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/cm' });
    const reply = await edge.bus.request('websocket', q, 5000);
    assert.equal(reply.header.parent_msg_id, q.header.msg_id);
    assert.equal(reply.route.resource, 'default/configmap/cm', 'prefix stripped on the way down');
    assert.deepEqual(reply.content, { kind: 'ConfigMap', data: { a: '1' } });
    const atCloud = cloud.edgecontroller.find((m) => m.header.msg_id === q.header.msg_id);
    assert.equal(atCloud?.route.resource, 'node/edge-x/default/configmap/cm');
  });

  test('cloud push -> edge metamanager -> ack completes the cloud waiter', async () => {
    await waitFor(() => edge.hub.isConnected(), 'link');
    const push = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'insert',
      resource: 'node/edge-x/default/pod/p',
      content: { kind: 'Pod' },
      resourceVersion: '3',
    });
    const ack = await cloud.bus.request('cloudhub', push, 5000);
    assert.equal(ack.content, 'OK');
    assert.equal(ack.route.resource, 'node/edge-x/default/pod/p');
    const atEdge = edge.meta.find((m) => m.header.msg_id === push.header.msg_id);
    assert.equal(atEdge?.route.resource, 'default/pod/p');
  });
});

describe('edgehub link failures', () => {
  test('while disconnected a request gets an immediate error response; others are dropped', async () => {
    // nothing listens on this port: dials fail
    const cloud = await startCloud(pki);
    const port = cloud.port;
    await cloud.stop();
    const edge = await startEdge(port, goodTls());
    try {
      const q = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/node/edge-x' });
      const r = await edge.bus.request('websocket', q, 10_000);
      assert.equal(r.route.operation, 'error');
      assert.equal(r.content, 'cloud not connected');
      assert.equal(r.header.parent_msg_id, q.header.msg_id);
      edge.bus.send('websocket', newMessage({ source: 'edged', group: 'meta', operation: 'update', resource: 'x/lease/y' }));
      await waitFor(() => edge.hub.stats().outboundRefused === 2, 'refusals counted');
      await waitFor(() => edge.hub.stats().dialFailures >= 2, 'redials');
      assert.equal(edge.hub.isConnected(), false);
    } finally {
      await edge.stop();
    }
  });

  test('reconnects by itself after the cloud is stopped and restarted on the same port', async () => {
    let cloud = await startCloud(pki);
    const port = cloud.port;
    const edge = await startEdge(port, goodTls());
    try {
      await waitFor(() => cloud.hub.isConnected('edge-x'), 'first connect');
      await cloud.stop();
      await waitFor(() => !edge.hub.isConnected(), 'edge sees the loss');
      await waitFor(() => edge.meta.find((m) => m.content === 'cloud_disconnected') !== undefined, 'meta told of loss');
      await new Promise((r) => setTimeout(r, 300)); // let a few dials fail
      cloud = await startCloud(pki, { port });
      await waitFor(() => cloud.hub.isConnected('edge-x'), 'reconnect', 10_000);
      await waitFor(() => cloud.hub.stats().keepalives >= 1, 'keepalive on the new link');
      const s = edge.hub.stats();
      assert.equal(s.connects, 2);
      assert.equal(s.disconnects, 1);
      assert.ok(s.dialFailures >= 1);
    } finally {
      await edge.stop();
      await cloud.stop();
    }
  });

  test('a client certificate from another CA never gets a link; the tls provider is asked before every dial', async () => {
    const cloud = await startCloud(pki);
    let asked = 0;
    const edge = await startEdge(cloud.port, async () => {
      asked++;
      return { caPem: pki.caPem, ...pki.foreignClient };
    });
    try {
      await waitFor(() => edge.hub.stats().dialFailures >= 3, 'several refused dials');
      assert.ok(asked >= 3);
      assert.equal(cloud.hub.isConnected('edge-x'), false);
      assert.equal(edge.hub.isConnected(), false);
      assert.equal(cloud.hub.stats().connectedNodes, 0);
    } finally {
      await edge.stop();
      await cloud.stop();
    }
  });

  test('a failing certificate provider is retried, then the link comes up', async () => {
    const cloud = await startCloud(pki);
    let calls = 0;
    const edge = await startEdge(cloud.port, async () => {
      calls++;
      if (calls < 3) throw new Error('bootstrap server not reachable');
      return { caPem: pki.caPem, ...pki.client };
    });
    try {
      await waitFor(() => cloud.hub.isConnected('edge-x'), 'link after retries');
      assert.equal(edge.hub.stats().dialFailures, 2);
      assert.match(edge.hub.stats().lastError, /bootstrap server not reachable/);
    } finally {
      await edge.stop();
      await cloud.stop();
    }
  });
});

describe('edgehub dead-link detection', () => {
  test('a link that goes silent (no FIN/RST) is dropped once pings stop being answered, and redialled', async () => {
    const cloud = await startCloud(pki);
    const proxy = await blackholeProxy(cloud.port);
    const edge = await startEdge(proxy.port, goodTls(), { heartbeatSec: 0.2 });
    try {
      await waitFor(() => edge.hub.isConnected(), 'link through the proxy');
      await new Promise((r) => setTimeout(r, 500)); // a few pings answered
      proxy.freeze();
      await waitFor(() => edge.hub.stats().disconnects === 1, 'dead link noticed', 5000);
      assert.equal(edge.hub.isConnected(), false);
      await waitFor(() => edge.hub.stats().connects === 2, 'redialled through the proxy', 5000);
    } finally {
      await edge.stop();
      await proxy.close();
      await cloud.stop();
    }
  });
});

describe('edgehub helpers', () => {
  test('URL follows KubeEdge: wss://<server>/<project>/<node>/events', () => {
    assert.equal(cloudUrl('10.0.0.1:10000', PROJECT, 'n1'), `wss://10.0.0.1:10000/${PROJECT}/n1/events`);
    assert.equal(cloudUrl('wss://cloud.example:10000/', 'p', 'n'), 'wss://cloud.example:10000/p/n/events');
  });

  test('backoff: full jitter under an exponential cap, reset to the start', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    const caps = Array.from({ length: 8 }, () => b.next(() => 0.999999));
    assert.deepEqual(caps, [999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
    assert.equal(
      b.next(() => 0),
      0,
    );
    b.reset();
    assert.equal(
      b.next(() => 0.5),
      500,
    );
  });

  test('frame decoder: non-JSON and oversized input is rejected with a reason, a v1.15.4-style frame is accepted', async () => {
    const { decodeFrame } = await import('../../../../src/core/frame.ts');
    assert.equal(decodeFrame(Buffer.from('nope'), 100).ok, false);
    const good = decodeFrame(Buffer.from('{"header":{"msg_id":"a","timestamp":1},"route":{},"content":null}\n'), 100);
    assert.equal(good.ok, true);
    assert.deepEqual(decodeFrame(Buffer.alloc(200, 32), 100), { ok: false, reason: 'oversize', detail: '200 bytes > 100' });
  });
});
