import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { Bus } from '../../../../../src/core/bus.ts';
import { logger } from '../../../../../src/core/log.ts';
import { newMessage, newResponse, type Message } from '../../../../../src/core/message.ts';
import { MetaManager } from '../../../../../src/edge/metamanager/metamanager.ts';
import { Edged } from '../../../../../src/edge/edged/edged.ts';
import { dockerSkip } from '../../../../helpers/docker.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodestatus-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = logger('nodestatus-test');
const NODE = 'ts-edge-1';

type Obj = Record<string, any>;
const notFound = (kind: string, group?: string) => ({
  ErrStatus: {
    metadata: {},
    status: 'Failure',
    message: `${kind} "${NODE}" not found`,
    reason: 'NotFound',
    details: { name: NODE, ...(group ? { group } : {}), kind },
    code: 404,
  },
});

/**
 * Fake cloud registered as `websocket`: answers edged's requests the way KubeEdge 1.15's cloudcore does in
 * wire/transcript-v1.15.4.jsonl (reply shapes per resource type), records everything, can fall silent.
 */
class FakeCloud {
  readonly received: Message[] = [];
  answering = true;
  node: Obj | undefined;
  lease: Obj | undefined;
  #rv = 1000;
  readonly #bus: Bus;

  constructor(bus: Bus) {
    this.#bus = bus;
    bus.register('websocket', 'hub', (m) => this.#onMessage(m));
  }

  link(state: 'cloud_connected' | 'cloud_disconnected'): void {
    for (const g of ['meta', 'edged']) {
      this.#bus.sendToGroup(g, newMessage({ source: 'websocket', group: g, operation: 'connect', resource: 'node/connection', content: state }));
    }
  }

  requests(op: string, type: string): Message[] {
    return this.received.filter((m) => m.route.source === 'edged' && m.route.operation === op && m.route.resource?.split('/')[1] === type);
  }

  async waitUntil(pred: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('fake cloud: condition not reached in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #onMessage(m: Message): void {
    this.received.push(m);
    if (!this.answering || m.route.source !== 'edged') return;
    const [, type] = (m.route.resource ?? '').split('/');
    const op = m.route.operation;
    let content: unknown;
    let rv: string | undefined;
    const rvNext = () => String(++this.#rv);
    if (type === 'node' && op === 'query') {
      if (this.node === undefined) content = notFound('node');
      else {
        content = { kind: 'Node', apiVersion: 'v1', ...this.node };
        rv = this.node['metadata'].resourceVersion;
      }
    } else if (type === 'node' && op === 'insert') {
      const c = m.content as Obj;
      this.node = { ...c, metadata: { ...c['metadata'], uid: randomUUID(), resourceVersion: rvNext() }, spec: {} };
      content = { Object: this.node, Err: null };
    } else if (type === 'nodepatch' && op === 'patch' && this.node === undefined) {
      content = { Object: null, Err: notFound('node') };
    } else if (type === 'nodepatch' && op === 'patch') {
      rv = rvNext();
      this.node!['metadata'].resourceVersion = rv;
      content = { Object: this.node, Err: null };
    } else if (type === 'lease' && op === 'query') {
      content =
        this.lease === undefined
          ? { Object: null, Err: notFound('lease', 'coordination.k8s.io') }
          : { Object: { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', ...this.lease }, Err: null };
    } else if (type === 'lease' && (op === 'insert' || op === 'update')) {
      const c = structuredClone(m.content) as Obj;
      const { kind: _k, apiVersion: _a, ...rest } = c;
      this.lease = {
        ...rest,
        metadata: { ...c['metadata'], uid: this.lease?.['metadata'].uid ?? randomUUID(), resourceVersion: rvNext(), creationTimestamp: '2026-11-29T23:08:27Z' },
      };
      content = { Object: this.lease, Err: null };
    } else {
      return;
    }
    const reply = newResponse(m, content, { source: 'edgecontroller', group: 'resource', ...(rv ? { resourceVersion: rv } : {}) });
    // What EdgeHub does with a cloud reply: complete the waiter.
    setImmediate(() => this.#bus.respond(reply));
  }
}

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

async function startEdge(opts: { statusMs: number; leaseSeconds: number; reportMs?: number }) {
  const bus = new Bus(log);
  const cloud = new FakeCloud(bus);
  const ctx = { bus, log, signal: new AbortController().signal };
  const mm = new MetaManager({ dataSource: join(dir, randomUUID(), 'edgecore.db'), remoteQueryTimeout: 0.3 });
  const edged = new Edged({
    nodeName: NODE,
    registerNodeNamespace: 'default',
    nodeIP: '10.1.2.3',
    nodeLabels: { site: 'lab-7' },
    maxPods: 42,
    nodeStatusUpdateFrequencyMs: opts.statusMs,
    // Unless a test says otherwise, report every tick, so the wire shapes show up quickly.
    nodeStatusReportFrequencyMs: opts.reportMs ?? opts.statusMs,
    nodeLeaseDurationSeconds: opts.leaseSeconds,
    containerRuntimeEndpoint: 'unix:///var/run/docker.sock',
    rootDirectory: dir,
    requestTimeoutMs: 2000,
  });
  await mm.start(ctx);
  await edged.start(ctx);
  stops.push(async () => {
    await edged.stop();
    await mm.stop();
    bus.close();
  });
  cloud.link('cloud_connected');
  return { bus, cloud, mm, edged };
}

const HEARTBEAT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('edged node status against a fake cloud', { skip: await dockerSkip() }, () => {
  test('fake cloud: registration, nodepatch and lease have the KubeEdge 1.15 wire shapes', async () => {
    const { cloud, edged } = await startEdge({ statusMs: 150, leaseSeconds: 1 });
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length >= 2 && cloud.requests('update', 'lease').length >= 2);

    const firstQuery = cloud.requests('query', 'node')[0]!;
    assert.deepEqual(firstQuery.route, { source: 'edged', group: 'meta', operation: 'query', resource: `default/node/${NODE}` });
    assert.equal(firstQuery.content, null);

    const inserts = cloud.requests('insert', 'node');
    assert.equal(inserts.length, 1, 'registers exactly once');
    const node = inserts[0]!.content as Obj;
    assert.equal(inserts[0]!.route.resource, `default/node/${NODE}`);
    assert.equal(node['kind'], undefined, 'Node goes without kind, as KubeEdge sends it');
    assert.deepEqual(node['metadata'].labels, {
      'beta.kubernetes.io/arch': node['status'].nodeInfo.architecture,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': node['status'].nodeInfo.architecture,
      'kubernetes.io/hostname': NODE,
      'kubernetes.io/os': 'linux',
      'node-role.kubernetes.io/agent': '',
      'node-role.kubernetes.io/edge': '',
      site: 'lab-7',
    });
    assert.deepEqual(Object.keys(node['metadata'].labels), [...Object.keys(node['metadata'].labels)].sort(), 'labels sorted like Go maps');
    const conds = node['status'].conditions as Obj[];
    assert.deepEqual(
      conds.map((c) => [c['type'], c['status']]),
      [
        ['MemoryPressure', 'False'],
        ['DiskPressure', 'False'],
        ['PIDPressure', 'False'],
        ['Ready', 'True'],
      ],
    );
    assert.equal(conds[3]!['reason'], 'EdgeReady');
    assert.match(conds[3]!['lastHeartbeatTime'], HEARTBEAT);
    assert.equal(node['status'].capacity.pods, '42');
    assert.match(node['status'].capacity.memory, /^\d+Ki$/);
    assert.match(node['status'].capacity.cpu, /^\d+$/);
    assert.match(node['status'].capacity['ephemeral-storage'], /^\d+Ki$/);
    assert.deepEqual(node['status'].addresses, [
      { type: 'InternalIP', address: '10.1.2.3' },
      { type: 'Hostname', address: NODE },
    ]);
    assert.deepEqual(node['status'].daemonEndpoints, { kubeletEndpoint: { Port: 10350 } });
    assert.match(node['status'].nodeInfo.containerRuntimeVersion, /^docker:\/\/\d+\./, 'the engine reports itself');
    assert.match(node['status'].nodeInfo.kubeletVersion, /^v1\.32\.10-kubeedge-ts-/);
    assert.equal(node['status'].nodeInfo.operatingSystem, 'linux');

    const patch = cloud.requests('patch', 'nodepatch').at(-1)!;
    assert.equal(patch.route.resource, `default/nodepatch/${NODE}`);
    assert.equal(typeof patch.content, 'string', 'nodepatch content is a JSON string');
    const body = JSON.parse(patch.content as string) as Obj;
    assert.deepEqual(Object.keys(body), ['status']);
    assert.deepEqual(body['status']['$setElementOrder/conditions'], [
      { type: 'MemoryPressure' },
      { type: 'DiskPressure' },
      { type: 'PIDPressure' },
      { type: 'Ready' },
    ]);
    const ready = (body['status'].conditions as Obj[]).find((c) => c['type'] === 'Ready')!;
    assert.equal(ready['status'], 'True');
    assert.match(ready['lastHeartbeatTime'], HEARTBEAT);
    assert.deepEqual(body['status'].addresses, node['status'].addresses);
    assert.equal(body['status'].capacity.pods, '42');
    assert.equal(body['status'].nodeInfo.kubeletVersion, node['status'].nodeInfo.kubeletVersion);

    // Lease: created after (not before) registration, owned by the Node.
    const leaseInserts = cloud.requests('insert', 'lease');
    assert.equal(leaseInserts.length, 1);
    assert.ok(cloud.received.indexOf(leaseInserts[0]!) > cloud.received.indexOf(inserts[0]!));
    assert.equal(leaseInserts[0]!.route.resource, `kube-node-lease/lease/${NODE}`);
    const lease = leaseInserts[0]!.content as Obj;
    assert.deepEqual(lease['metadata'].ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: NODE, uid: edged.nodeStatus?.nodeUid }]);
    assert.equal(lease['metadata'].namespace, 'kube-node-lease');
    assert.deepEqual({ ...lease['spec'], renewTime: 'x' }, { holderIdentity: NODE, leaseDurationSeconds: 1, renewTime: 'x' });
    assert.match(lease['spec'].renewTime, MICRO);
    const [u1, u2] = cloud.requests('update', 'lease').slice(-2) as [Message, Message];
    const l1 = u1.content as Obj;
    const l2 = u2.content as Obj;
    assert.match(l2['spec'].renewTime, MICRO);
    assert.ok(l2['spec'].renewTime > l1['spec'].renewTime, 'renewTime moves forward');
    assert.ok(Number(l2['metadata'].resourceVersion) > Number(l1['metadata'].resourceVersion), 'update carries the lease as last returned');
    assert.equal(l2['metadata'].uid, cloud.lease?.['metadata'].uid);

    // The edge acks the cloud's replies to query/insert/update ("OK", route copied), not those to patch.
    const acks = cloud.received.filter((m) => m.route.operation === 'response' && m.content === 'OK');
    assert.ok(acks.some((a) => a.route.resource === `default/node/${NODE}` && a.route.source === 'edgecontroller'));
    assert.ok(acks.some((a) => a.route.resource === `kube-node-lease/lease/${NODE}`));
    assert.equal(acks.filter((a) => a.route.resource?.includes('/nodepatch/')).length, 0);
  });

  test('fake cloud: keeps heartbeating after the cloud stops answering, and recovers', async () => {
    const { cloud, edged } = await startEdge({ statusMs: 100, leaseSeconds: 1 });
    await cloud.waitUntil(() => cloud.requests('update', 'lease').length >= 1 && cloud.requests('patch', 'nodepatch').length >= 1);
    const uid = edged.nodeStatus?.nodeUid;
    cloud.answering = false;
    const patches = cloud.requests('patch', 'nodepatch').length;
    const renewals = cloud.requests('update', 'lease').length;
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length >= patches + 3 && cloud.requests('update', 'lease').length >= renewals + 3, 10_000);
    cloud.answering = true;
    const seen = cloud.received.length;
    await cloud.waitUntil(() => cloud.received.slice(seen).some((m) => m.content === 'OK' && m.route.resource === `kube-node-lease/lease/${NODE}`), 10_000);
    assert.equal(edged.nodeStatus?.nodeUid, uid, 'still the same node; no re-registration');
    assert.equal(cloud.requests('insert', 'node').length, 1);
  });

  test('fake cloud: status goes out at once after a reconnect, not a period later', async () => {
    const { cloud } = await startEdge({ statusMs: 60_000, leaseSeconds: 240 });
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length === 1 && cloud.requests('insert', 'lease').length === 1);
    cloud.link('cloud_disconnected');
    cloud.link('cloud_connected');
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length === 2 && cloud.requests('update', 'lease').length === 1);
  });

  test('fake cloud: an unchanged status is not sent every tick, but again after a reconnect', async () => {
    const { cloud } = await startEdge({ statusMs: 100, leaseSeconds: 1, reportMs: 60_000 });
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length >= 1 && cloud.requests('update', 'lease').length >= 2);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(cloud.requests('patch', 'nodepatch').length, 1, 'six ticks, one unchanged status, one patch');
    cloud.link('cloud_disconnected');
    cloud.link('cloud_connected');
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length >= 2);
  });

  test('fake cloud: a node deleted in the cloud is registered again', async () => {
    const { cloud } = await startEdge({ statusMs: 100, leaseSeconds: 1 });
    await cloud.waitUntil(() => cloud.requests('patch', 'nodepatch').length >= 1);
    // Make the next nodepatch fail with NotFound, like cloudcore after `kubectl delete node`.
    cloud.node = undefined;
    await cloud.waitUntil(() => cloud.requests('insert', 'node').length === 2);
    assert.ok(cloud.node, 'the node exists again');
  });
});
