import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { Bus } from '../../../../src/core/bus.ts';
import { logger } from '../../../../src/core/log.ts';
import { newMessage, newResponse, type Message } from '../../../../src/core/message.ts';
import { MetaManager } from '../../../../src/edge/metamanager/metamanager.ts';
import { MetaStore } from '../../../../src/edge/metamanager/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'metamanager-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = logger('metamanager-test');

/** Collects what a module receives, and lets a test wait for the n-th message. */
class Inbox {
  readonly msgs: Message[] = [];
  #waiters: Array<() => void> = [];
  push(m: Message): void {
    this.msgs.push(m);
    for (const w of this.#waiters.splice(0)) w();
  }
  async waitFor(pred: (m: Message) => boolean, ms = 3000): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.msgs.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error('timed out waiting for message');
      await new Promise<void>((res) => {
        this.#waiters.push(res);
        setTimeout(res, 50);
      });
    }
  }
}

let n = 0;
let bus: Bus;
let mm: MetaManager;
let cloud: Inbox; // fake cloud: whatever metamanager sends to `websocket`
let edged: Inbox;
let dataSource: string;

function connect(state: 'cloud_connected' | 'cloud_disconnected'): Promise<void> {
  bus.sendToGroup('meta', newMessage({ source: 'websocket', group: 'meta', operation: 'connect', resource: 'node/connection', content: state }));
  return new Promise((r) => setImmediate(r));
}

const cm = (rv: string, mode: string) => ({
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { name: 'wire-cm', namespace: 'default', resourceVersion: rv },
  data: { mode },
});

beforeEach(async () => {
  dataSource = join(dir, `t${n++}`, 'edgecore.db');
  bus = new Bus(log);
  cloud = new Inbox();
  edged = new Inbox();
  bus.register('websocket', 'hub', (m) => cloud.push(m));
  bus.register('edged', 'edged', (m) => edged.push(m));
  mm = new MetaManager({ dataSource, remoteQueryTimeout: 0.5 });
  await mm.start({ bus, log, signal: new AbortController().signal });
});
afterEach(async () => {
  await mm.stop();
  bus.close();
});

describe('metamanager with a fake cloud on the bus', () => {
  test('cloud insert is persisted, forwarded to edged and acked "OK" with the acked route', async () => {
    const pod = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'wire-pod', namespace: 'default', resourceVersion: '1081' } };
    const m = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'insert',
      resource: 'default/pod/wire-pod',
      content: pod,
      resourceVersion: '1081',
    });
    bus.send('metamanager', m);
    const ack = await cloud.waitFor((x) => x.header.parent_msg_id === m.header.msg_id);
    assert.equal(ack.content, 'OK');
    assert.deepEqual(ack.route, { source: 'edgecontroller', group: 'resource', operation: 'response', resource: 'default/pod/wire-pod' });
    const fwd = await edged.waitFor((x) => x.header.msg_id === m.header.msg_id);
    assert.deepEqual(fwd.content, pod);
    // persisted before the ack: a fresh handle on the same file sees it
    const s = new MetaStore(dataSource);
    assert.deepEqual(s.getObject('default/pod/wire-pod'), pod);
    assert.equal(s.get('default/pod/wire-pod')?.resourceVersion, '1081');
    s.close();
  });

  test('cloud update with an older resourceVersion is acked but neither stored nor forwarded', async () => {
    const m1 = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'update',
      resource: 'default/configmap/wire-cm',
      content: cm('1136', 'gamma'),
      resourceVersion: '1136',
    });
    const m2 = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'update',
      resource: 'default/configmap/wire-cm',
      content: cm('1098', 'beta'),
      resourceVersion: '1098',
    });
    bus.send('metamanager', m1);
    await cloud.waitFor((x) => x.header.parent_msg_id === m1.header.msg_id);
    bus.send('metamanager', m2);
    await cloud.waitFor((x) => x.header.parent_msg_id === m2.header.msg_id);
    assert.deepEqual(mm.store.getObject('default/configmap/wire-cm'), cm('1136', 'gamma'));
    assert.equal(edged.msgs.filter((x) => x.route.resource === 'default/configmap/wire-cm').length, 1);
    assert.equal(mm.stats.stale, 1);
  });

  test('cloud delete removes the object; malformed content is rejected without ack', async () => {
    const ins = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'insert',
      resource: 'default/pod/p',
      content: { metadata: { name: 'p', resourceVersion: '5' } },
      resourceVersion: '5',
    });
    bus.send('metamanager', ins);
    await cloud.waitFor((x) => x.header.parent_msg_id === ins.header.msg_id);
    const del = newMessage({
      source: 'edgecontroller',
      group: 'resource',
      operation: 'delete',
      resource: 'default/pod/p',
      content: { metadata: { name: 'p', resourceVersion: '6' } },
      resourceVersion: '6',
    });
    bus.send('metamanager', del);
    await cloud.waitFor((x) => x.header.parent_msg_id === del.header.msg_id);
    assert.equal(mm.store.get('default/pod/p'), undefined);
    await edged.waitFor((x) => x.header.msg_id === del.header.msg_id);
    const bad = newMessage({ source: 'edgecontroller', group: 'resource', operation: 'insert', resource: 'default/pod/q', content: 42 });
    bus.send('metamanager', bad);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      cloud.msgs.some((x) => x.header.parent_msg_id === bad.header.msg_id),
      false,
    );
    assert.equal(mm.stats.rejected, 1);
  });

  test('edged query goes to the cloud under a new id, is answered, acked and cached', async () => {
    await connect('cloud_connected');
    const q = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/wire-cm' });
    const pending = bus.request('metamanager', q, 3000);
    const fwd = await cloud.waitFor((x) => x.route.operation === 'query');
    assert.notEqual(fwd.header.msg_id, q.header.msg_id);
    assert.deepEqual(fwd.route, q.route);
    assert.equal(fwd.header.timestamp, q.header.timestamp);
    const reply = newResponse(fwd, cm('1078', 'alpha'), { source: 'edgecontroller', group: 'resource', resourceVersion: '1078' });
    bus.respond(reply); // what EdgeHub does with a cloud reply
    const answer = await pending;
    assert.equal(answer.header.parent_msg_id, q.header.msg_id);
    assert.equal(answer.header.resourceversion, '1078');
    assert.deepEqual(answer.content, cm('1078', 'alpha'));
    const ack = await cloud.waitFor((x) => x.header.parent_msg_id === reply.header.msg_id);
    assert.equal(ack.content, 'OK');
    assert.equal(ack.route.source, 'edgecontroller');
    assert.deepEqual(mm.store.getObject('default/configmap/wire-cm'), cm('1078', 'alpha'));
  });

  test('a serviceaccounttoken reply is kept: offline, the same query is answered with the last token', async () => {
    await connect('cloud_connected');
    const asked = {
      metadata: { creationTimestamp: null },
      spec: { audiences: null, expirationSeconds: 3607 },
      status: { token: '', expirationTimestamp: null },
    };
    const q = () => newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/serviceaccounttoken/default', content: asked });
    const pending = bus.request('metamanager', q(), 3000);
    const fwd = await cloud.waitFor((x) => x.route.operation === 'query' && x.route.resource === 'default/serviceaccounttoken/default');
    const minted = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'default', namespace: 'default', creationTimestamp: null },
      spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3607 },
      status: { token: 'eyJ.a.b', expirationTimestamp: '2026-12-02T03:00:00Z' },
    };
    bus.respond(newResponse(fwd, minted, { source: 'edgecontroller', group: 'resource' }));
    assert.deepEqual((await pending).content, minted);
    await connect('cloud_disconnected');
    const offline = await bus.request('metamanager', q(), 3000);
    assert.equal((offline.content as { status?: { token?: string } }).status?.token, 'eyJ.a.b');
  });

  test('replies to patch are passed back but not acked', async () => {
    await connect('cloud_connected');
    const p = newMessage({ source: 'edged', group: 'meta', operation: 'patch', resource: 'default/nodepatch/n1', content: '{}' });
    const pending = bus.request('metamanager', p, 3000);
    const fwd = await cloud.waitFor((x) => x.route.operation === 'patch');
    const reply = newResponse(fwd, { Object: { metadata: { name: 'n1' } }, Err: null }, { source: 'edgecontroller', group: 'resource', resourceVersion: '9' });
    bus.respond(reply);
    const answer = await pending;
    assert.deepEqual(answer.content, { Object: { metadata: { name: 'n1' } }, Err: null });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      cloud.msgs.some((x) => x.header.parent_msg_id === reply.header.msg_id),
      false,
    );
  });

  test("the status the cloud accepts for a pod is kept in the stored pod, under the pod's own resourceVersion", async () => {
    const pod = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '40' }, spec: { nodeName: 'n1' } };
    mm.store.put('default/pod/p', 'pod', pod);
    await connect('cloud_connected');
    const status = { phase: 'Running', startTime: '2026-12-01T10:00:00Z' };
    const pending = bus.request(
      'metamanager',
      newMessage({ source: 'edged', group: 'meta', operation: 'patch', resource: 'default/podpatch/p', content: '{}' }),
      3000,
    );
    const fwd = await cloud.waitFor((x) => x.route.operation === 'patch');
    const patched = { ...pod, metadata: { ...pod.metadata, resourceVersion: '41' }, status };
    bus.respond(newResponse(fwd, { Object: patched, Err: null }, { source: 'edgecontroller', group: 'resource' }));
    await pending;
    assert.deepEqual(mm.store.getObject('default/pod/p'), { ...pod, status });
    assert.equal(mm.store.get('default/pod/p')?.resourceVersion, '40', 'a later cloud update (rv 41) must still apply');

    const other = { ...patched, metadata: { ...patched.metadata, uid: 'u2' }, status: { phase: 'Failed' } };
    const again = bus.request(
      'metamanager',
      newMessage({ source: 'edged', group: 'meta', operation: 'patch', resource: 'default/podpatch/p', content: '{}' }),
      3000,
    );
    const fwd2 = await cloud.waitFor((x) => x.route.operation === 'patch' && x.header.msg_id !== fwd.header.msg_id);
    bus.respond(newResponse(fwd2, { Object: other, Err: null }, { source: 'edgecontroller', group: 'resource' }));
    await again;
    assert.deepEqual((mm.store.getObject('default/pod/p') as { status: unknown }).status, status, 'a reply about another pod of that name changes nothing');
  });

  test('offline: query answered from the store, pod list from the store, writes get an error', async () => {
    mm.store.put('default/configmap/wire-cm', 'configmap', cm('1098', 'beta'));
    mm.store.put('default/pod/a', 'pod', { metadata: { name: 'a', namespace: 'default' } });
    mm.store.put('other/pod/b', 'pod', { metadata: { name: 'b', namespace: 'other' } });
    const q = await bus.request('metamanager', newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/wire-cm' }), 2000);
    assert.equal(q.route.operation, 'response');
    assert.deepEqual(q.content, cm('1098', 'beta'));
    assert.equal(q.header.resourceversion, '1098');
    const missing = await bus.request('metamanager', newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/secret/nope' }), 2000);
    assert.equal(missing.route.operation, 'error');
    const pods = await bus.request('metamanager', newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/pod' }), 2000);
    assert.deepEqual(pods.content, [{ metadata: { name: 'a', namespace: 'default' } }]);
    const ins = await bus.request(
      'metamanager',
      newMessage({ source: 'edged', group: 'meta', operation: 'insert', resource: 'kube-node-lease/lease/n1', content: {} }),
      2000,
    );
    assert.equal(ins.route.operation, 'error');
    assert.equal(ins.content, 'cloud not connected');
    assert.equal(cloud.msgs.length, 0, 'nothing goes to the hub while offline');
  });

  test('cloud silent: the query falls back to the store after remoteQueryTimeout; an insert gets an error', async () => {
    await connect('cloud_connected');
    mm.store.put('default/node/n1', 'node', { metadata: { name: 'n1', resourceVersion: '3' } });
    const q = await bus.request('metamanager', newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/node/n1' }), 3000);
    assert.deepEqual(q.content, { metadata: { name: 'n1', resourceVersion: '3' } });
    const ins = await bus.request(
      'metamanager',
      newMessage({ source: 'edged', group: 'meta', operation: 'insert', resource: 'default/node/n1', content: {} }),
      3000,
    );
    assert.equal(ins.route.operation, 'error');
    assert.match(String(ins.content), /timed out/);
  });

  test('after cloud_disconnected requests are no longer forwarded', async () => {
    await connect('cloud_connected');
    await connect('cloud_disconnected');
    const r = await bus.request(
      'metamanager',
      newMessage({ source: 'edged', group: 'meta', operation: 'update', resource: 'kube-node-lease/lease/n1', content: {} }),
      2000,
    );
    assert.equal(r.content, 'cloud not connected');
    assert.equal(cloud.msgs.length, 0);
  });
});
