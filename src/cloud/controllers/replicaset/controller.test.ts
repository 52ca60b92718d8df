import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logger } from '../../../core/log.ts';
import type { ModuleContext } from '../../../core/module.ts';
import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import type { InformerEventType, InformerHandler } from '../../common/informers/informer.ts';
import type { CloudInformers, InformerView } from '../../common/informers/informers.ts';
import { ReplicaSetController, slowStartBatch } from './controller.ts';

/** A fake informer: the test decides when (and whether) the controller's cache sees an event. */
class FakeInformer implements InformerView {
  readonly synced = Promise.resolve();
  readonly #handlers: InformerHandler[] = [];
  readonly #cache = new Map<string, KubeObject>();
  addHandler(h: InformerHandler): void {
    this.#handlers.push(h);
  }
  get(ns: string, name: string): KubeObject | undefined {
    return this.#cache.get(`${ns}/${name}`);
  }
  list(): KubeObject[] {
    return [...this.#cache.values()];
  }
  deliver(type: InformerEventType, o: KubeObject): void {
    const k = `${o.metadata?.namespace}/${o.metadata?.name}`;
    const old = this.#cache.get(k);
    if (type === 'delete') this.#cache.delete(k);
    else this.#cache.set(k, o);
    for (const h of this.#handlers) h(type, o, old);
  }
}

/** A fake API that records writes and answers creates with a named object. */
function fakeKube(): { kube: KubeRest; podCreates: KubeObject[] } {
  const podCreates: KubeObject[] = [];
  let n = 0;
  const kube = {
    async create(path: string, body: KubeObject) {
      const md = body.metadata ?? {};
      const created = { ...body, metadata: { ...md, name: md.name ?? `${String(md['generateName'])}${n++}`, uid: `pod-${n}` } };
      if (path.endsWith('/pods')) podCreates.push(created);
      return created;
    },
    async replace(_path: string, body: KubeObject) {
      return body;
    },
    async patch(_path: string, body: KubeObject) {
      return body;
    },
    async delete() {
      return {};
    },
    async get() {
      return {};
    },
  };
  return { kube: kube as unknown as KubeRest, podCreates };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

test('fake informers: a ReplicaSet never creates again while its own creates are not yet in its cache', async () => {
  const rsInf = new FakeInformer();
  const podInf = new FakeInformer();
  const informers = { informer: () => rsInf, pods: podInf, start() {}, stop() {} } as unknown as CloudInformers;
  const { kube, podCreates } = fakeKube();
  const log = logger('test');
  log.level = 'silent';
  const c = new ReplicaSetController({ kube, informers, log: () => log });
  const rs: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-1', generation: 1 },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: {} } },
  };
  rsInf.deliver('add', rs);
  await c.module.start({} as ModuleContext);
  try {
    await settle();
    assert.equal(podCreates.length, 3);
    // Events that wake the controller before its pods reached the cache: no second round of creates.
    for (let i = 0; i < 5; i++) rsInf.deliver('update', { ...rs, metadata: { ...rs.metadata, annotations: { poke: String(i) } } });
    await settle();
    assert.equal(podCreates.length, 3);
    // Two of three arrive: still waiting for the third, still no create.
    for (const p of podCreates.slice(0, 2)) podInf.deliver('add', p);
    await settle();
    assert.equal(podCreates.length, 3);
    const third = podCreates[2] as KubeObject;
    podInf.deliver('add', third);
    await settle();
    assert.equal(podCreates.length, 3);
    // A pod that really disappears is replaced once the cache agrees.
    podInf.deliver('delete', third);
    await settle();
    assert.equal(podCreates.length, 4);
  } finally {
    await c.module.stop?.();
  }
});

test('slow start: batches of 1, 2, 4, ... and no further batch after a failure', async () => {
  const sizes: number[] = [];
  let pending = 0;
  const r = await slowStartBatch(10, async () => {
    pending++; // every call of one batch starts before any of them resumes
    await new Promise((res) => setImmediate(res));
    if (pending > 0) sizes.push(pending);
    pending = 0;
  });
  assert.equal(r.done, 10);
  assert.deepEqual(sizes, [1, 2, 4, 3]);
  let calls = 0;
  const failing = await slowStartBatch(100, async () => {
    calls++;
    if (calls >= 3) throw new Error('quota');
  });
  assert.equal(calls, 3, 'batches 1 and 2; the second fails, no third');
  assert.equal(failing.done, 2);
  assert.ok(failing.error instanceof Error);
});
