import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { newMessage, newResponse, type Message } from '../../../core/message.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import type { Acked, ObjectRef } from './objectsync.ts';
import { ReliableQueue, type AckRecordStore } from './queue.ts';

/** ObjectSyncs in a Map; `records` is what a restarted cloudcore would read back. */
function memoryStore(records = new Map<string, Acked>()): AckRecordStore & { records: Map<string, Acked> } {
  return {
    records,
    acked: async (node, ref) => records.get(`${node}.${ref.uid}`),
    record: async (node: string, ref: ObjectRef, acked: Acked) => {
      records.set(`${node}.${ref.uid}`, acked);
    },
    remove: async (node, ref) => {
      records.delete(`${node}.${ref.uid}`);
    },
  };
}

/** A node link that is always up and keeps what was written. */
function link(): { sent: Message[]; dispatch(n: string, m: Message): Promise<boolean>; isConnected(): boolean } {
  const sent: Message[] = [];
  return {
    sent,
    dispatch: async (_n, m) => {
      sent.push(m);
      return true;
    },
    isConnected: () => true,
  };
}

const pod = (rv: string, o: { phase?: string; labels?: Record<string, string> } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'p1', resourceVersion: rv, labels: o.labels ?? { app: 'web' } },
  spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: o.phase ?? 'Pending' },
});

const podMsg = (op: string, obj: KubeObject): Message =>
  newMessage({
    source: 'edgecontroller',
    group: 'resource',
    operation: op,
    resource: 'default/pod/web',
    content: obj,
    resourceVersion: obj.metadata?.resourceVersion ?? '',
  });

const settle = () => new Promise((r) => setTimeout(r, 10));
const quiet = pino({ level: 'silent' });

describe('reliable queue: what the edge holds', () => {
  test('after an ack, a pod newer only in its status is not sent; a label change is', async () => {
    const store = memoryStore();
    const l = link();
    const q = new ReliableQueue({ store, link: l, log: quiet });
    q.send('edge-1', podMsg('insert', pod('5')));
    await settle();
    assert.equal(l.sent.length, 1);
    q.onAck('edge-1', newResponse(l.sent[0]!, 'OK'));
    await settle();
    assert.equal(store.records.get('edge-1.p1')?.rv, '5');
    assert.ok(store.records.get('edge-1.p1')?.fingerprint, 'the acked fingerprint is recorded');

    q.send('edge-1', podMsg('update', pod('6', { phase: 'Running' })));
    await settle();
    assert.equal(l.sent.length, 1, 'status-only: nothing sent');
    q.send('edge-1', podMsg('update', pod('7', { phase: 'Running', labels: { app: 'web', v: '2' } })));
    await settle();
    assert.equal(l.sent.length, 2);
    assert.equal(l.sent[1]?.header.resourceversion, '7');
    q.stop();
  });

  test('a restarted cloudcore re-offering a pod whose status alone changed since the ack sends nothing', async () => {
    const first = memoryStore();
    const l1 = link();
    const q1 = new ReliableQueue({ store: first, link: l1, log: quiet });
    q1.send('edge-1', podMsg('insert', pod('5')));
    await settle();
    q1.onAck('edge-1', newResponse(l1.sent[0]!, 'OK'));
    await settle();
    q1.stop();

    const l2 = link();
    const q2 = new ReliableQueue({ store: memoryStore(first.records), link: l2, log: quiet });
    q2.send('edge-1', podMsg('insert', pod('9', { phase: 'Running' })));
    await settle();
    assert.equal(l2.sent.length, 0);
    assert.equal(q2.stats().stale, 1);
    q2.stop();
  });

  test('a ConfigMap in a query reply is recorded as held by the edge; the same version is not pushed again', async () => {
    const store = memoryStore();
    const l = link();
    const q = new ReliableQueue({ store, link: l, log: quiet });
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: 'default', uid: 'c1', resourceVersion: '3' } };
    const query = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/conf' });
    q.send('edge-1', newResponse(query, cm, { source: 'edgecontroller', group: 'resource', resourceVersion: '3' }));
    await settle();
    assert.equal(l.sent.length, 1, 'the reply is written at once');
    assert.deepEqual(store.records.get('edge-1.c1'), { rv: '3' }, 'no fingerprint for a ConfigMap: its resourceVersion decides');
    assert.equal(q.stats().noted, 1);

    q.send(
      'edge-1',
      newMessage({ source: 'edgecontroller', group: 'resource', operation: 'update', resource: 'default/configmap/conf', content: cm, resourceVersion: '3' }),
    );
    await settle();
    assert.equal(l.sent.length, 1, 'the edge has this version already');
    q.stop();
  });

  test('an object deleted from a node comes back with a later insert (a device model needed again); an update does not', async () => {
    const store = memoryStore();
    const l = link();
    const q = new ReliableQueue({ store, link: l, log: quiet });
    const model: KubeObject = {
      apiVersion: 'devices.kubeedge.io/v1beta1',
      kind: 'DeviceModel',
      metadata: { name: 'm', namespace: 'default', uid: 'm1', resourceVersion: '4' },
    };
    const modelMsg = (op: string) =>
      newMessage({ source: 'devicecontroller', group: 'resource', operation: op, resource: 'default/devicemodel/m', content: model, resourceVersion: '4' });
    q.send('edge-1', modelMsg('insert'));
    await settle();
    q.onAck('edge-1', newResponse(l.sent[0]!, 'OK'));
    q.send('edge-1', modelMsg('delete'));
    await settle();
    assert.equal(l.sent[1]?.route.operation, 'delete');
    q.onAck('edge-1', newResponse(l.sent[1]!, 'OK'));
    await settle();
    q.send('edge-1', modelMsg('update'));
    await settle();
    assert.equal(l.sent.length, 2, 'an update after the delete is stale');
    q.send('edge-1', modelMsg('insert'));
    await settle();
    assert.equal(l.sent.length, 3, 'the same model inserted again is sent');
    assert.equal(l.sent[2]?.route.operation, 'insert');
    q.stop();
  });

  test('an ObjectSync write that fails while the API server is down is written once it is back', async () => {
    const store = memoryStore();
    let down = true;
    const flaky: AckRecordStore = {
      ...store,
      record: async (node, ref, acked) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
        await store.record(node, ref, acked);
      },
    };
    const q = new ReliableQueue({ store: flaky, link: link(), log: quiet, recordRetryMs: 5 });
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: 'default', uid: 'c1', resourceVersion: '7' } };
    const query = newMessage({ source: 'edged', group: 'meta', operation: 'query', resource: 'default/configmap/conf' });
    q.send('edge-1', newResponse(query, cm, { source: 'edgecontroller', group: 'resource', resourceVersion: '7' }));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(store.records.get('edge-1.c1'), undefined, 'nothing written while the API server is down');
    down = false;
    for (let i = 0; i < 100 && store.records.get('edge-1.c1') === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    // Without the record a restarted cloudcore's synccontroller would not know the edge holds this ConfigMap.
    assert.deepEqual(store.records.get('edge-1.c1'), { rv: '7' });
    q.stop();
  });
});
