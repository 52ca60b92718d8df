import path from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { kubectlOk, type TestServer } from '../../../../helpers/apiserver.ts';
import { paths, type KubeObject, type KubeRest } from '../../../../../src/kube/rest.ts';
import { makePki, type LinkPki } from '../../../../helpers/cloudhub.ts';
import { createNode, FakeEdge, newApi, podManifest, startStack, type CloudStack } from '../../../../helpers/downstream.ts';

/** The cloud->edge configmap query reply recorded from KubeEdge v1.15.4 (../shared/reference/wire/README.md §4.2), kept as a fixture. */
function recordedConfigMapReply(): { header: Record<string, unknown>; route: Record<string, unknown>; content: Record<string, unknown> } | undefined {
  try {
    const lines = readFileSync(path.resolve(import.meta.dirname, '../../../../fixtures/kubeedge-v1.15.4-configmap-reply.jsonl'), 'utf8').split('\n');
    for (const l of lines) {
      if (l === '') continue;
      const rec = JSON.parse(l) as { dir: string; data: string };
      if (rec.dir !== 'cloud->edge') continue;
      const m = JSON.parse(rec.data) as { header: Record<string, unknown>; route: Record<string, unknown>; content: Record<string, unknown> };
      if (m.route['operation'] === 'response' && String(m.route['resource']).includes('/configmap/')) return m;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const runningPatch = (uid: string) =>
  JSON.stringify({
    metadata: { uid },
    status: {
      conditions: [
        { lastProbeTime: null, lastTransitionTime: '2026-11-29T23:09:36Z', status: 'True', type: 'Ready' },
        { lastProbeTime: null, lastTransitionTime: '2026-11-29T23:09:35Z', status: 'True', type: 'PodScheduled' },
      ],
      containerStatuses: [
        {
          image: 'busybox',
          imageID: 'sha256:4527',
          lastState: {},
          name: 'main',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: '2026-11-29T23:09:35Z' } },
        },
      ],
      phase: 'Running',
      podIP: '10.88.0.62',
      podIPs: [{ ip: '10.88.0.62' }],
    },
  });

describe('edgecontroller upstream: pods, configmaps, secrets, tokens, events (fake edge)', () => {
  let pki: LinkPki;
  let api: TestServer;
  let kube: KubeRest;
  let stack: CloudStack;
  let edge: FakeEdge;

  before(async () => {
    pki = await makePki();
    ({ api, kube } = await newApi());
    await createNode(kube, 'edge-u', true);
    stack = await startStack(api, pki);
    edge = await FakeEdge.connect(stack.port, pki, 'edge-u');
  });
  after(async () => {
    await edge?.close();
    await stack?.stop();
    kube?.close();
    await api?.cleanup();
  });

  test('podpatch updates the pod status; kubectl shows Running; reply is {Object, Err} with rv header', async () => {
    const pod = await kube.create(paths.namespaced('default', 'pods'), podManifest('runner', 'edge-u'));
    await edge.waitFor('default/pod/runner', 'insert');
    const reply = await edge.request('patch', 'default/podpatch/runner', runningPatch(pod.metadata?.uid ?? ''));
    assert.equal(reply.route.operation, 'response');
    assert.equal(reply.route.source, 'edgecontroller');
    const c = reply.content as { Object: KubeObject; Err: unknown };
    assert.equal(c.Err, null);
    assert.equal(c.Object.kind, undefined, 'Object carries no kind, as in v1.15.4');
    assert.equal((c.Object['status'] as { phase: string }).phase, 'Running');
    assert.equal(reply.header.resourceversion, c.Object.metadata?.resourceVersion);
    const out = await kubectlOk(api, ['get', 'pods', 'runner', '--no-headers']);
    assert.match(out, /^runner\s+1\/1\s+Running\s+0\s+/);
    // The status change is not echoed back (KubeEdge's edgecontroller sends a pod only when its metadata or
    // spec changed); a label change is. So the first update the edge gets is the label's.
    const labelled = await kube.patch(paths.namespaced('default', 'pods', 'runner'), { metadata: { labels: { tier: 'web' } } }, 'merge');
    const upd = await edge.waitFor('default/pod/runner', 'update');
    assert.equal(edge.about('default/pod/runner', 'update').length, 1);
    assert.equal(upd.header.resourceversion, labelled.metadata?.resourceVersion);
  });

  test('a podpatch with a non-JSON body is answered with an error, not a crash', async () => {
    const reply = await edge.request('patch', 'default/podpatch/runner', '{not json');
    const c = reply.content as { Object: unknown; Err: { ErrStatus: { message: string } } };
    assert.equal(c.Object, null);
    assert.match(c.Err.ErrStatus.message, /not JSON/);
  });

  test('pod delete from the edge with grace 0 removes the pod; reply "OK", also when already gone', async () => {
    const pod = await kube.create(paths.namespaced('default', 'pods'), podManifest('finished', 'edge-u'));
    await kube.delete(paths.namespaced('default', 'pods', 'finished'));
    const opts = { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } };
    const reply = await edge.request('delete', 'default/pod/finished', opts);
    assert.equal(reply.content, 'OK');
    await assert.rejects(kube.get(paths.namespaced('default', 'pods', 'finished')), /not found/);
    const again = await edge.request('delete', 'default/pod/finished', opts);
    assert.equal(again.content, 'OK');
  });

  test('a pod delete with a stale UID precondition fails and leaves the new pod alone', async () => {
    await kube.create(paths.namespaced('default', 'pods'), podManifest('reborn', 'edge-u'));
    const reply = await edge.request('delete', 'default/pod/reborn', { gracePeriodSeconds: 0, preconditions: { uid: 'not-the-uid' } });
    assert.equal((reply.content as { ErrStatus: { code: number } }).ErrStatus.code, 409);
    await kube.get(paths.namespaced('default', 'pods', 'reborn'));
  });

  test('configmap query reply has the recorded shape: bare object with kind/apiVersion and an rv header', async () => {
    const created = await kube.create(paths.namespaced('default', 'configmaps'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'wire-cm' },
      data: { mode: 'alpha' },
    });
    const reply = await edge.request('query', 'default/configmap/wire-cm');
    const recorded = recordedConfigMapReply();
    assert.ok(recorded, 'transcript has a configmap reply');
    assert.deepEqual(Object.keys(reply.header).sort(), Object.keys(recorded.header).sort());
    assert.deepEqual(reply.route, { ...recorded.route, resource: 'default/configmap/wire-cm' });
    const c = reply.content as KubeObject;
    assert.deepEqual(Object.keys(c).slice(0, 3), ['kind', 'apiVersion', 'metadata']);
    assert.equal(c.kind, recorded.content['kind']);
    assert.equal(c.apiVersion, recorded.content['apiVersion']);
    assert.equal(reply.header.resourceversion, created.metadata?.resourceVersion);
    assert.deepEqual(c['data'], { mode: 'alpha' });
  });

  test('a missing configmap or secret is answered with a bare ErrStatus', async () => {
    for (const r of ['default/configmap/nope', 'default/secret/nope']) {
      const reply = await edge.request('query', r);
      const c = reply.content as { ErrStatus: { code: number; reason: string } };
      assert.equal(c.ErrStatus.code, 404);
      assert.equal(c.ErrStatus.reason, 'NotFound');
      assert.equal(reply.header.resourceversion, undefined);
    }
  });

  test('secret query returns the Secret with kind', async () => {
    await kube.create(paths.namespaced('default', 'secrets'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wire-secret' },
      data: { password: 'czNjcjN0LXZhbHVl' },
    });
    const reply = await edge.request('query', 'default/secret/wire-secret');
    const c = reply.content as KubeObject;
    assert.equal(c.kind, 'Secret');
    assert.deepEqual(c['data'], { password: 'czNjcjN0LXZhbHVl' });
  });

  test('serviceaccounttoken query returns the TokenRequest the API server minted; a missing ServiceAccount is an error', async () => {
    const missing = await edge.request('query', 'default/serviceaccounttoken/nobody', { spec: { expirationSeconds: 3607 } });
    assert.equal((missing.content as { ErrStatus?: { code?: number } }).ErrStatus?.code, 404);
    await kube.create(paths.namespaced('default', 'serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    const asked = {
      metadata: { creationTimestamp: null },
      spec: { audiences: null, expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'runner', uid: 'x' } },
      status: { token: '', expirationTimestamp: null },
    };
    const reply = await edge.request('query', 'default/serviceaccounttoken/default', asked);
    const c = reply.content as KubeObject & { status: { token: string; expirationTimestamp: string } };
    assert.equal(c.kind, 'TokenRequest');
    assert.equal(c.apiVersion, 'authentication.k8s.io/v1');
    assert.equal(c.status.token.split('.').length, 3, 'a signed JWT');
    assert.ok(Date.parse(c.status.expirationTimestamp) > Date.now());
    assert.equal(reply.header.resourceversion, undefined);
  });

  test('event insert from the edge creates the Event in the API server', async () => {
    const event = {
      metadata: { name: 'runner.17a', namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'runner', apiVersion: 'v1' },
      reason: 'Started',
      message: 'Started container main',
      source: { component: 'kubelet', host: 'edge-u' },
      type: 'Normal',
      count: 1,
    };
    await edge.request('insert', 'default/event/runner.17a', event);
    const got = await kube.get(paths.namespaced('default', 'events', 'runner.17a'));
    assert.equal(got['reason'], 'Started');
    await edge.request('update', 'default/event/runner.17a', { ...event, count: 2 });
    const again = await kube.get(paths.namespaced('default', 'events', 'runner.17a'));
    assert.equal(again['count'], 2);
  });
});
