import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../../core/message.ts';
import { logger } from '../../../core/log.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import type { CloudInformers } from '../../common/informers/informers.ts';
import type { InformerHandler } from '../../common/informers/informer.ts';
import { meshFingerprint, MeshDownstream } from './services.ts';

/** A fake informer: a list and the handlers added to it, fired by hand. */
function fakeInformer(items: KubeObject[] = []) {
  const handlers: InformerHandler[] = [];
  return {
    synced: Promise.resolve(),
    addHandler: (h: InformerHandler) => handlers.push(h),
    get: () => undefined,
    list: () => items,
    fire: (t: 'add' | 'update' | 'delete', o: KubeObject, old?: KubeObject) => {
      for (const h of handlers) h(t, o, old);
    },
  };
}

function setup(slicesServed: boolean) {
  const byPath = new Map<string, ReturnType<typeof fakeInformer>>();
  const nodes = fakeInformer([{ metadata: { name: 'm1', labels: { 'kubeedge.io/edgemesh': 'enabled' } } }, { metadata: { name: 'p1', labels: {} } }]);
  const informers = {
    nodes,
    informer: (spec: { path: string }) => {
      let i = byPath.get(spec.path);
      if (i === undefined) {
        i = fakeInformer();
        byPath.set(spec.path, i);
      }
      return i;
    },
  } as unknown as CloudInformers;
  const sent: Message[] = [];
  const d = new MeshDownstream({ informers, log: logger('test'), send: (m) => sent.push(m), slicesServed: async () => slicesServed });
  return { d, sent, byPath, nodes };
}

const eps = (ip: string): KubeObject => ({
  kind: 'Endpoints',
  apiVersion: 'v1',
  metadata: { namespace: 'default', name: 'web', uid: 'e1', resourceVersion: '3' },
  subsets: [{ addresses: [{ ip }] }],
});

test('fake informers: a cluster without EndpointSlices sends Endpoints to EdgeMesh nodes only', async () => {
  const { d, sent, byPath } = setup(false);
  await d.start();
  assert.equal(byPath.has('/apis/discovery.k8s.io/v1/endpointslices'), false, 'no slice informer on such a cluster');
  byPath.get('/api/v1/endpoints')?.fire('add', eps('172.17.0.2'));
  assert.deepEqual(
    sent.map((m) => [m.route.operation, m.route.resource]),
    [['insert', 'node/m1/default/endpoints/web']],
  );
  // Only the controllers' trigger-time annotation moved: nothing to send.
  const old = eps('172.17.0.2');
  const noisy = { ...old, metadata: { ...old.metadata, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': 'x' } } };
  byPath.get('/api/v1/endpoints')?.fire('update', noisy, old);
  assert.equal(sent.length, 1);
  byPath.get('/api/v1/endpoints')?.fire('update', eps('172.17.0.9'), old);
  assert.equal(sent.at(-1)?.route.operation, 'update');
  assert.equal(d.stats().unchangedSkipped, 1);
});

test('fake informers: with slices, Endpoints are not followed; slices already listed are sent at start', async () => {
  const { d, sent, byPath } = setup(true);
  const slice: KubeObject = {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: { namespace: 'default', name: 'web-1', uid: 's1' },
    endpoints: [],
  };
  // Listed already by another module (the embedded endpointslice controller asked for the same informer).
  byPath.set('/apis/discovery.k8s.io/v1/endpointslices', fakeInformer([slice]));
  await d.start();
  assert.equal(byPath.has('/api/v1/endpoints'), false);
  assert.deepEqual(
    sent.map((m) => m.route.resource),
    ['node/m1/default/endpointslice/web-1'],
  );
});

test('meshFingerprint ignores status and bookkeeping, not spec or labels', () => {
  const svc: KubeObject = { metadata: { uid: 'u', labels: { a: '1' } }, spec: { ports: [{ port: 80 }] }, status: { loadBalancer: {} } };
  const f = meshFingerprint('service', svc);
  assert.equal(meshFingerprint('service', { ...svc, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } }), f);
  assert.notEqual(meshFingerprint('service', { ...svc, spec: { ports: [{ port: 81 }] } }), f);
  assert.notEqual(meshFingerprint('service', { ...svc, metadata: { uid: 'u', labels: { a: '2' } } }), f);
});
