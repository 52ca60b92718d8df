import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { KubeApiError } from '../../kube/rest.ts';
import type { KubeObject } from '../../kube/rest.ts';
import { StatusWriter, type PendingAck } from './status-writer.ts';

const quiet = pino({ level: 'silent' });
const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const report = (value: string) => ({ twins: { t: { reported: { value, metadata: { timestamp: '1', type: 'int' } } } } });

/** The writer over an in-memory object store (a patch function, no API server): the paths a real server rarely takes. */
function harness(o: { fail?: number; maxPending?: number } = {}) {
  const objects = new Map<string, KubeObject>();
  const acks: PendingAck[] = [];
  let failures = o.fail ?? 0;
  let rv = 1;
  const patches: unknown[] = [];
  const w = new StatusWriter({
    patch: async (ns, name, body) => {
      patches.push(body);
      if (!objects.has(`${ns}/${name}`)) throw new KubeApiError('PATCH', name, 404, { reason: 'NotFound', message: 'not found' });
      if (failures-- > 0) throw new KubeApiError('PATCH', name, 500, { reason: 'InternalError', message: 'boom' });
      const cur = objects.get(`${ns}/${name}`) as KubeObject;
      const next = { ...cur, ...(body as object), metadata: { ...cur.metadata, resourceVersion: String(++rv) } } as KubeObject;
      objects.set(`${ns}/${name}`, next);
      return next;
    },
    current: () => undefined,
    ack: (a) => acks.push(...a),
    log: quiet,
    intervalMs: 30,
    lazyIntervalMs: 1000,
    maxPending: o.maxPending ?? 100,
    workers: 2,
  });
  objects.set('default/d1', { metadata: { name: 'd1', namespace: 'default', resourceVersion: '1' } });
  objects.set('default/d2', { metadata: { name: 'd2', namespace: 'default', resourceVersion: '1' } });
  return { w, acks, patches, objects };
}

test('a failed write is retried with what came meanwhile; its reports are confirmed only after the write (in-memory patch function)', async () => {
  const h = harness({ fail: 1 });
  h.w.offer('default', 'd1', report('1'), { nodeId: 'n', msgId: 'a' });
  await settle(5);
  assert.equal(h.acks.length, 0, 'not confirmed while the write failed');
  h.w.offer('default', 'd1', report('2'), { nodeId: 'n', msgId: 'b' });
  await settle(120);
  assert.deepEqual(
    h.acks.map((a) => a.msgId),
    ['a', 'b'],
  );
  assert.equal((h.objects.get('default/d1') as { status?: { twins?: { reported?: { value: string } }[] } }).status?.twins?.[0]?.reported?.value, '2');
  assert.equal(h.w.stats().failed, 1);
  await h.w.stop();
});

test('reports beyond maxPending devices are refused and not confirmed; a gone device confirms its reports', async () => {
  const h = harness({ maxPending: 1 });
  assert.equal(h.w.offer('default', 'd1', report('1'), { nodeId: 'n', msgId: 'a' }), 'taken');
  // d1's write is in flight at once; a second pending device still fits, a third does not.
  h.w.offer('default', 'd1', report('2'), { nodeId: 'n', msgId: 'b' });
  assert.equal(h.w.offer('default', 'd2', report('1'), { nodeId: 'n', msgId: 'c' }), 'refused');
  assert.equal(h.w.stats().refused, 1);
  await settle(120);
  assert.ok(!h.acks.some((a) => a.msgId === 'c'));
  h.objects.delete('default/d2');
  assert.equal(h.w.offer('default', 'd2', report('9'), { nodeId: 'n', msgId: 'd' }), 'taken');
  await settle(60);
  assert.ok(
    h.acks.some((a) => a.msgId === 'd'),
    'NotFound: confirmed, nothing left to write',
  );
  await h.w.stop();
});
