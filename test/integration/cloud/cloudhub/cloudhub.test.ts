import path from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { newMessage, type Message } from '../../../../src/core/message.ts';
import { blackholeProxy, makePki, rawClient, startCloud, waitFor, type CloudFixture, type LinkPki } from '../../../helpers/cloudhub.ts';

// The first minute of a real KubeEdge v1.15.4 edge's conversation (from ../shared/reference/wire), kept as a fixture.
const TRANSCRIPT = path.resolve(import.meta.dirname, '../../../fixtures/kubeedge-v1.15.4-connect.jsonl');

function frame(m: Message): string {
  return `${JSON.stringify(m)}\n`;
}

const keepalive = (): Message => newMessage({ source: 'websocket', group: 'resource', operation: 'keepalive', resource: 'node', content: 'ping' });

let pki: LinkPki;
before(async () => {
  pki = await makePki();
});

describe('cloudhub over real TLS + WebSocket', () => {
  let cloud: CloudFixture;
  before(async () => {
    cloud = await startCloud(pki, { maxMessageBytes: 4096 });
  });
  after(async () => {
    await cloud.stop();
  });

  test('an edge connects with node_id/project_id/ConnectionUse; keepalives reach the session', async () => {
    const c = await rawClient(
      cloud.port,
      { caPem: pki.caPem, ...pki.client },
      {
        node_id: 'edge-a',
        project_id: 'e632aba927ea4ac2b575ec1603d56f10',
        ConnectionUse: 'msg',
      },
    );
    try {
      await waitFor(() => cloud.hub.isConnected('edge-a'), 'session');
      const conn = cloud.hub.connection('edge-a');
      assert.ok(conn);
      assert.equal(conn.path, '/p1/edge-a/events');
      assert.equal(conn.projectId, 'e632aba927ea4ac2b575ec1603d56f10');
      assert.equal(conn.headers['connectionuse'], 'msg');
      assert.equal(conn.headers['node_id'], 'edge-a');
      await waitFor(
        () => cloud.edgecontroller.find((m) => m.route.operation === 'connected' && m.route.resource === 'node/edge-a') !== undefined,
        'connected event',
      );
      const before = cloud.hub.stats().keepalives;
      c.ws.send(frame(keepalive()));
      await waitFor(() => cloud.hub.stats().keepalives === before + 1, 'keepalive counted');
      // keepalives are handled inside cloudhub, never forwarded
      assert.equal(
        cloud.edgecontroller.find((m) => m.route.operation === 'keepalive'),
        undefined,
      );
    } finally {
      c.ws.close();
    }
  });

  test('upstream: resource gets node/<id>/ and goes to edgecontroller; twin goes to devicecontroller', async () => {
    const c = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'edge-b', project_id: 'p', ConnectionUse: 'msg' });
    try {
      const q = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/cm1' });
      const t = newMessage({ source: 'twin', group: 'resource', operation: 'get', resource: 'membership/detail', content: '{}' });
      c.ws.send(frame(q));
      c.ws.send(frame(t));
      await waitFor(() => cloud.edgecontroller.find((m) => m.header.msg_id === q.header.msg_id) !== undefined, 'query at edgecontroller');
      const got = cloud.edgecontroller.find((m) => m.header.msg_id === q.header.msg_id);
      assert.equal(got?.route.resource, 'node/edge-b/default/configmap/cm1');
      assert.equal(got?.route.source, 'edged');
      await waitFor(() => cloud.devicecontroller.find((m) => m.header.msg_id === t.header.msg_id) !== undefined, 'twin at devicecontroller');
      assert.equal(cloud.devicecontroller.find((m) => m.header.msg_id === t.header.msg_id)?.route.resource, 'node/edge-b/membership/detail');
    } finally {
      c.ws.close();
    }
  });

  test('downstream: node/<id>/ is stripped, one text frame per message ending in \\n; a response completes the cloud waiter', async () => {
    const c = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'edge-c', project_id: 'p', ConnectionUse: 'msg' });
    try {
      await waitFor(() => cloud.hub.isConnected('edge-c'), 'session');
      const push = newMessage({
        source: 'edgecontroller',
        group: 'resource',
        operation: 'insert',
        resource: 'node/edge-c/default/pod/web',
        content: { kind: 'Pod' },
        resourceVersion: '7',
      });
      const reply = cloud.bus.request('cloudhub', push, 5000);
      await waitFor(() => c.frames.length > 0, 'frame at edge');
      const raw = c.frames[0] ?? '';
      assert.ok(raw.endsWith('\n'), 'frame ends with newline');
      assert.equal(raw.indexOf('\n'), raw.length - 1, 'exactly one message per frame');
      const seen = JSON.parse(raw) as Message;
      assert.equal(seen.route.resource, 'default/pod/web');
      assert.equal(seen.header.msg_id, push.header.msg_id);
      assert.equal(seen.header.resourceversion, '7');
      assert.equal(push.route.resource, 'node/edge-c/default/pod/web', "sender's message not mutated");
      // the edge acks like metamanager does: new id, parent = the pushed id, route of the message
      const ack: Message = {
        header: { msg_id: 'ack-1', parent_msg_id: seen.header.msg_id, timestamp: Date.now() },
        route: { ...seen.route, operation: 'response' },
        content: 'OK',
      };
      c.ws.send(frame(ack));
      const r = await reply;
      assert.equal(r.content, 'OK');
      assert.equal(r.route.resource, 'node/edge-c/default/pod/web');
      assert.ok(cloud.hub.stats().acks >= 1);
    } finally {
      c.ws.close();
    }
  });

  test('a downstream message for a node that is not connected is dropped and counted', async () => {
    const before = cloud.hub.stats().downstreamDropped;
    cloud.bus.send('cloudhub', newMessage({ source: 'edgecontroller', group: 'resource', operation: 'update', resource: 'node/nobody/default/pod/x' }));
    await waitFor(() => cloud.hub.stats().downstreamDropped === before + 1, 'drop counted');
  });

  test('malformed JSON, an invalid message and an oversized frame are dropped and counted; the connection keeps working', async () => {
    const c = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'edge-d', project_id: 'p', ConnectionUse: 'msg' });
    try {
      const s0 = cloud.hub.stats().rejectedFrames;
      c.ws.send('{"header": not json');
      c.ws.send(JSON.stringify({ header: { msg_id: 42 }, route: {}, content: null }));
      const big = newMessage({ source: 'edged', group: 'meta', operation: 'update', resource: 'default/lease/x', content: 'y'.repeat(5000) });
      c.ws.send(frame(big));
      const q = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/secret/s' });
      c.ws.send(frame(q));
      await waitFor(() => cloud.edgecontroller.find((m) => m.header.msg_id === q.header.msg_id) !== undefined, 'valid message after bad ones');
      const s1 = cloud.hub.stats().rejectedFrames;
      assert.equal(s1.not_json, s0.not_json + 1);
      assert.equal(s1.invalid_message, s0.invalid_message + 1);
      assert.equal(s1.oversize, s0.oversize + 1);
      assert.equal(
        cloud.edgecontroller.find((m) => m.header.msg_id === big.header.msg_id),
        undefined,
      );
      assert.equal(c.ws.readyState, c.ws.OPEN);
    } finally {
      c.ws.close();
    }
  });

  test('a second connection for the same node replaces the first', async () => {
    const first = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'edge-e', project_id: 'p', ConnectionUse: 'msg' });
    await waitFor(() => cloud.hub.isConnected('edge-e'), 'first session');
    const second = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'edge-e', project_id: 'p', ConnectionUse: 'msg' });
    try {
      await first.closed;
      assert.ok(cloud.hub.isConnected('edge-e'));
      cloud.bus.send('cloudhub', newMessage({ source: 'edgecontroller', group: 'resource', operation: 'update', resource: 'node/edge-e/default/configmap/c' }));
      await waitFor(() => second.frames.length === 1, 'message on the new connection');
      assert.equal(first.frames.length, 0);
      const events = cloud.edgecontroller.messages.filter((m) => m.route.resource === 'node/edge-e').map((m) => m.route.operation);
      assert.deepEqual(events, ['connected', 'connected'], 'replacement does not report the node disconnected');
    } finally {
      second.ws.close();
    }
  });

  test('TLS: no client cert, a cert from another CA, or a cert without clientAuth are refused', async () => {
    const t0 = cloud.hub.stats().tlsErrors;
    await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem }));
    await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem, ...pki.foreignClient }));
    // OpenSSL's client-purpose check already refuses this one during the handshake
    await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem, ...pki.serverOnlyClient }));
    await waitFor(() => cloud.hub.stats().tlsErrors === t0 + 3, 'three TLS refusals counted');
    assert.equal(cloud.hub.isConnected('edge-1'), false);
  });

  test('an upgrade without node_id gets 400', async () => {
    await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { project_id: 'p' }), /400/);
    await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'a/b' }), /400/);
    assert.ok(cloud.hub.stats().refusedUpgrades.missing_node_id >= 1);
  });

  test('replayed v1.15.4 edge frames (keepalive, membership get, queries, acks) are accepted and routed', async () => {
    const lines = readFileSync(TRANSCRIPT, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const edgeFrames = lines
      .map((l) => JSON.parse(l) as { dir: string; conn: number; data: string })
      .filter((f) => f.dir === 'edge->cloud' && f.conn === 1)
      .slice(0, 12)
      .map((f) => f.data);
    const c = await rawClient(
      cloud.port,
      { caPem: pki.caPem, ...pki.client },
      { node_id: 'wire-edge-1', project_id: 'e632aba927ea4ac2b575ec1603d56f10', ConnectionUse: 'msg' },
    );
    try {
      const s0 = cloud.hub.stats();
      for (const f of edgeFrames) c.ws.send(f);
      const parsed = edgeFrames.map((f) => JSON.parse(f) as Message);
      const forwarded = parsed.filter((m) => m.route.operation !== 'keepalive' && m.route.operation !== 'response');
      assert.ok(forwarded.length >= 3, 'transcript slice contains queries');
      await waitFor(() => cloud.hub.stats().messagesIn === s0.messagesIn + edgeFrames.length, 'all frames taken');
      const s1 = cloud.hub.stats();
      assert.deepEqual(s1.rejectedFrames, s0.rejectedFrames, 'no frame rejected');
      assert.equal(s1.keepalives - s0.keepalives, parsed.filter((m) => m.route.operation === 'keepalive').length);
      for (const m of forwarded) {
        const rec = m.route.source === 'twin' ? cloud.devicecontroller : cloud.edgecontroller;
        await waitFor(() => rec.find((x) => x.header.msg_id === m.header.msg_id) !== undefined, `routing of ${m.route.resource}`);
        const got = rec.find((x) => x.header.msg_id === m.header.msg_id);
        assert.equal(got?.route.resource, `node/wire-edge-1/${m.route.resource}`);
        assert.deepEqual(got?.content, m.content);
      }
      assert.ok(parsed.some((m) => m.route.resource === 'default/node/wire-edge-1' && m.route.operation === 'query'));
    } finally {
      c.ws.close();
    }
  });
});

describe('cloudhub session limits', () => {
  test('nodeLimit: a new node beyond the limit is refused at upgrade; the same node may still reconnect', async () => {
    const cloud = await startCloud(pki, { nodeLimit: 1 });
    try {
      const a = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'n1', project_id: 'p', ConnectionUse: 'msg' });
      await assert.rejects(rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'n2', project_id: 'p', ConnectionUse: 'msg' }), /503/);
      assert.equal(cloud.hub.stats().refusedUpgrades.admission, 1);
      const a2 = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'n1', project_id: 'p', ConnectionUse: 'msg' });
      await a.closed;
      assert.deepEqual(cloud.hub.connectedNodes(), ['n1']);
      a2.ws.close();
    } finally {
      await cloud.stop();
    }
  });

  test('keepalive timeout: a silent edge is disconnected and edgecontroller hears it; a talking one stays', async () => {
    const cloud = await startCloud(pki, { keepaliveIntervalSec: 0.4 });
    try {
      const silent = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'quiet', project_id: 'p', ConnectionUse: 'msg' });
      const chatty = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'chatty', project_id: 'p', ConnectionUse: 'msg' });
      const beat = setInterval(() => chatty.ws.send(frame(keepalive())), 100);
      try {
        await silent.closed;
        await waitFor(
          () => cloud.edgecontroller.find((m) => m.route.operation === 'disconnected' && m.route.resource === 'node/quiet') !== undefined,
          'disconnected event',
        );
        assert.equal(cloud.hub.isConnected('quiet'), false);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(cloud.hub.isConnected('chatty'), true);
      } finally {
        clearInterval(beat);
        chatty.ws.close();
      }
    } finally {
      await cloud.stop();
    }
  });

  test('a flooding edge is slowed down by TCP backpressure, loses nothing, and another edge is still served', async () => {
    const cloud = await startCloud(pki, { upstreamQps: 500, upstreamBurst: 100 });
    try {
      const flood = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'flood', project_id: 'p', ConnectionUse: 'msg' });
      const calm = await rawClient(cloud.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'calm', project_id: 'p', ConnectionUse: 'msg' });
      const fromFlood = () => cloud.edgecontroller.messages.filter((m) => m.route.resource?.startsWith('node/flood/')).length;
      const n = 2000;
      for (let i = 0; i < n; i++) flood.ws.send(frame(newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: `default/configmap/c${i}` })));
      // While the flood is held back, the calm edge's request goes through.
      calm.ws.send(frame(newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/calm' })));
      await waitFor(() => cloud.edgecontroller.find((m) => m.route.resource === 'node/calm/default/configmap/calm') !== undefined, 'the calm edge served');
      assert.ok(fromFlood() < n, 'the flood was not all taken in at once');
      await waitFor(() => fromFlood() === n, 'every flooded message delivered in the end', 15_000);
      assert.ok(cloud.hub.stats().throttled > 0);
      assert.equal(cloud.hub.isConnected('flood'), true);
      flood.ws.close();
      calm.ws.close();
    } finally {
      await cloud.stop();
    }
  });

  test('writeTimeout: an edge that stops reading is disconnected instead of piling up writes', async () => {
    const cloud = await startCloud(pki, { writeTimeoutSec: 0.5 });
    const proxy = await blackholeProxy(cloud.port);
    try {
      const c = await rawClient(proxy.port, { caPem: pki.caPem, ...pki.client }, { node_id: 'slow', project_id: 'p', ConnectionUse: 'msg' });
      await waitFor(() => cloud.hub.isConnected('slow'), 'session');
      proxy.stall();
      const blob = 'z'.repeat(1024 * 1024);
      const sends = Array.from({ length: 64 }, () =>
        cloud.hub.dispatch(
          'slow',
          newMessage({ source: 'edgecontroller', group: 'resource', operation: 'update', resource: 'default/configmap/big', content: blob }),
        ),
      );
      const results = await Promise.all(sends);
      assert.ok(results.includes(false), 'some writes gave up');
      assert.ok(cloud.hub.stats().writeFailures >= 1);
      await waitFor(() => !cloud.hub.isConnected('slow'), 'session ended');
      await waitFor(
        () => cloud.edgecontroller.find((m) => m.route.operation === 'disconnected' && m.route.resource === 'node/slow') !== undefined,
        'disconnected event',
      );
      c.ws.terminate();
    } finally {
      await proxy.close();
      await cloud.stop();
    }
  });
});
