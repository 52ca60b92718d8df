// The event TTL controller against a real embedded API server: events written with old timestamps go, fresh
// ones stay, in both core/v1 and events.k8s.io/v1.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectlOk, startTestServer, type TestServer } from '../../../../helpers/apiserver.ts';
import { type ControlPlaneTest, startControlPlane } from '../../../../helpers/controlplane.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { loadKubeConfig } from '../../../../../src/kube/client.ts';
import { KubeRest } from '../../../../../src/kube/rest.ts';

let api: TestServer;
let cp: ControlPlaneTest | undefined;
let admin: KubeRest;

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
const HOUR = 3600_000;

function coreEvent(name: string, agoMs: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Test',
    message: name,
    type: 'Normal',
    source: { component: 'test' },
    firstTimestamp: iso(agoMs),
    lastTimestamp: iso(agoMs),
    count: 1,
  };
}

function newEvent(name: string, agoMs: number): Record<string, unknown> {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
    reason: 'Test',
    action: 'Testing',
    note: name,
    type: 'Normal',
    reportingController: 'test',
    reportingInstance: 'test',
    eventTime: new Date(Date.now() - agoMs).toISOString().replace('Z', '000Z'),
  };
}

before(async () => {
  api = await startTestServer();
  admin = new KubeRest(loadKubeConfig({ kubeConfig: api.kubeConfigPath }));
});

after(async () => {
  admin?.close();
  if (cp !== undefined) await cp.cleanup();
  else await api?.cleanup();
});

async function names(path: string): Promise<string[]> {
  const l = await admin.get<{ items: Array<{ metadata: { name: string } }> }>(path);
  return l.items.map((i) => i.metadata.name).sort();
}

test('events older than an hour are deleted (already there at start, or written later); fresh ones are kept', async () => {
  await admin.create('/api/v1/namespaces/default/events', coreEvent('old-core', 2 * HOUR));
  await admin.create('/api/v1/namespaces/default/events', coreEvent('fresh-core', 60_000));
  await admin.create('/apis/events.k8s.io/v1/namespaces/default/events', newEvent('old-new', 3 * HOUR));
  await admin.create('/apis/events.k8s.io/v1/namespaces/default/events', newEvent('fresh-new', 1000));
  cp = await startControlPlane(['eventttl'], api);
  assert.deepEqual(await waitFor(async () => ((await names('/api/v1/events')).includes('old-core') ? undefined : names('/api/v1/events')), 20_000), [
    'fresh-core',
  ]);
  assert.deepEqual(
    await waitFor(
      async () => ((await names('/apis/events.k8s.io/v1/events')).includes('old-new') ? undefined : names('/apis/events.k8s.io/v1/events')),
      20_000,
    ),
    ['fresh-new'],
  );
  await admin.create('/api/v1/namespaces/default/events', coreEvent('late-old', 90 * 60_000));
  await waitFor(async () => !(await names('/api/v1/events')).includes('late-old'), 20_000);
  const shown = await kubectlOk(api, ['get', 'events', '-o', 'name']);
  assert.equal(shown.trim(), 'event/fresh-core');
});
