// Lease renewals from one edge that arrive while an earlier one is still being written: only the newest is written
// next, and every request is answered with a renewed Lease (no error, no backlog of stale writes).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestServer } from '../../../../helpers/apiserver.ts';
import { quietLog } from '../../../../helpers/cloudhub.ts';
import { newApi } from '../../../../helpers/downstream.ts';
import { newMessage } from '../../../../../src/core/message.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';
import { leaseHandlers } from '../../../../../src/cloud/edgecontroller/upstream/lease.ts';
import { splitUpstream } from '../../../../../src/cloud/edgecontroller/edgecontroller.ts';

let api: TestServer;
let kube: KubeRest;

before(async () => {
  ({ api, kube } = await newApi());
});
after(async () => {
  kube?.close();
  await api?.cleanup();
});

const lease = (renewTime: string): KubeObject => ({
  metadata: { name: 'edge-l', namespace: 'kube-node-lease' },
  spec: { holderIdentity: 'edge-l', leaseDurationSeconds: 40, renewTime },
});

function request(op: string, body: KubeObject) {
  const msg = newMessage({ source: 'edged', group: 'meta', operation: op, resource: 'node/edge-l/kube-node-lease/lease/edge-l', content: body });
  const req = splitUpstream(msg);
  assert.ok(req);
  return req;
}

test('renewals piling up for one Lease: each is answered, the newest wins, superseded ones are not written', async () => {
  const handlers = leaseHandlers();
  const insert = handlers['lease:insert'];
  const update = handlers['lease:update'];
  assert.ok(insert && update);
  const ctx = { kube, log: quietLog('lease-test') };
  const created = await insert(ctx, request('insert', lease('2026-12-02T10:00:00.000000Z')));
  assert.equal((created as { content: { Err: unknown } }).content.Err, null);
  const rv0 = Number((await kube.get(paths.lease('kube-node-lease', 'edge-l'))).metadata?.resourceVersion);

  const times = ['2026-12-02T10:00:10.000000Z', '2026-12-02T10:00:20.000000Z', '2026-12-02T10:00:30.000000Z', '2026-12-02T10:00:40.000000Z'];
  const replies = await Promise.all(times.map((t) => update(ctx, request('update', lease(t)))));
  for (const r of replies) {
    const c = r?.content as { Object: KubeObject | null; Err: unknown };
    assert.equal(c.Err, null);
    assert.ok(c.Object?.metadata?.resourceVersion !== undefined);
  }
  const renewed = (r: (typeof replies)[number]) => (r as { content: { Object: { spec: { renewTime: string } } } }).content.Object.spec.renewTime;
  assert.equal(renewed(replies[0]), times[0], 'the first is written at once');
  for (const r of replies.slice(1)) assert.equal(renewed(r), times[3], 'the ones that waited get the newest renewal');
  const stored = await kube.get<{ spec: { renewTime: string } }>(paths.lease('kube-node-lease', 'edge-l'));
  assert.equal(stored.spec.renewTime, times[3]);
  const writes = Number((stored as KubeObject).metadata?.resourceVersion) - rv0;
  assert.equal(writes, 2, 'two writes for four renewals');
});
