import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Bus } from '../../core/bus.ts';
import type { Message } from '../../core/message.ts';
import type { KubeObject } from '../../kube/rest.ts';
import type { ObjectSyncRecord } from '../cloudhub/reliable/objectsync.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { SyncController } from './synccontroller.ts';

const log = pino({ level: 'silent' });
const NODE = 'edge-1';

const cm: KubeObject = {
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { name: 'cfg', namespace: 'ns', uid: 'cm-uid', resourceVersion: '40' },
  data: { v: '7' },
};
const secret: KubeObject = { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'tok', namespace: 'ns', uid: 's-uid', resourceVersion: '41' } };
const pod: KubeObject = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'web', namespace: 'ns', uid: 'pod-uid', resourceVersion: '30' },
  spec: {
    nodeName: NODE,
    containers: [{ name: 'c', image: 'busybox', envFrom: [{ secretRef: { name: 'tok' } }] }],
    volumes: [{ name: 'v', configMap: { name: 'cfg' } }],
  },
};

function record(o: KubeObject, ackedRv: string): ObjectSyncRecord {
  const md = o.metadata as { name: string; namespace: string; uid: string };
  return {
    nodeName: NODE,
    syncName: `${NODE}.${md.uid}`,
    apiVersion: 'v1',
    kind: String(o.kind),
    namespace: md.namespace,
    name: md.name,
    uid: md.uid,
    ackedRv,
  };
}

/** The synccontroller over a fixed cluster state (the informers' caches) and ObjectSync records; what it sends to CloudHub. */
async function pass(records: ObjectSyncRecord[]) {
  const objects = [cm, secret, pod];
  const live = {
    ready: async () => {},
    start() {},
    stop() {},
    get: (kind: string, ns: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.namespace === ns && o.metadata?.name === name),
    knows: () => true,
    podsOn: (n: string) => (n === NODE ? [pod] : []),
    podsOnEdge: () => [pod],
    isEdgeNode: (n: string) => n === NODE,
  };
  const bus = new Bus(log);
  const sent: Message[] = [];
  bus.register(CloudModules.cloudHub, CloudGroups.cloudHub, (m) => sent.push(m));
  const sc = new SyncController({ records: { list: async () => records, remove: async () => {} }, live, periodMs: 60_000 });
  await sc.start({ bus, log, signal: new AbortController().signal });
  try {
    // start() runs a first pass of its own; measure one pass of ours.
    await sc.sync();
    await new Promise((r) => setImmediate(r));
    sent.length = 0;
    const result = await sc.sync();
    await new Promise((r) => setImmediate(r));
    return { result, sent };
  } finally {
    await sc.stop();
    bus.close();
  }
}

describe('SyncController', () => {
  it('sends a ConfigMap and a Secret a pod on the node uses when the node has no record of them (record lost to a kill)', async () => {
    const { result, sent } = await pass([record(pod, '30')]);
    const byResource = new Map(sent.map((m) => [m.route.resource, m]));
    const c = byResource.get(`node/${NODE}/ns/configmap/cfg`);
    assert.equal(c?.route.operation, 'insert');
    assert.equal(c?.header.resourceversion, '40');
    assert.deepEqual((c?.content as KubeObject | undefined)?.['data'], { v: '7' });
    assert.equal(byResource.get(`node/${NODE}/ns/secret/tok`)?.route.operation, 'update');
    assert.equal(result.refsWithoutRecord, 2);
  });

  it('sends nothing for objects whose records say the node has them at their current version', async () => {
    const { sent } = await pass([record(pod, '30'), record(cm, '40'), record(secret, '41')]);
    assert.deepEqual(sent, []);
  });

  it('still repairs from a record: an older acked ConfigMap is updated once, not also sent as unrecorded', async () => {
    const { sent } = await pass([record(pod, '30'), record(cm, '12'), record(secret, '41')]);
    assert.deepEqual(
      sent.map((m) => `${m.route.operation} ${m.route.resource}`),
      [`update node/${NODE}/ns/configmap/cfg`],
    );
  });
});
