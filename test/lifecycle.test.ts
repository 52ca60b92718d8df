// Whole cloudcore (from the sources, embedded API server, controllers as it starts them by default): what a user
// of `kubectl` sees of the garbage collector, the namespace, serviceaccount, endpoint and endpointslice
// controllers and the ServiceAccount admission. There is no edge here: where a kubelet would report or finish a
// pod, the test does it (test kubelet), as an edge would over CloudHub.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from './helpers/cloud.ts';
import { tailLogsOnFailure } from './helpers/daemon.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-lifecycle-'));

async function port(): Promise<number> {
  const p = await bindablePort(0);
  if (p === undefined) throw new Error('no free port');
  return p;
}

describe('cloudcore from the sources: lifecycle controllers as kubectl shows them', { skip, timeout: 240_000 }, () => {
  let cloud: TestCloud | undefined;
  const k = (args: string[], stdin?: string) => (stdin === undefined ? kubectl(cloud?.kubeconfig ?? '', args) : kubectlIn(args, stdin));
  const kubectlIn = (args: string[], stdin: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(kubectlPath() ?? 'kubectl', ['--kubeconfig', cloud?.kubeconfig ?? '', ...args], (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      );
      child.stdin?.end(stdin);
    });
  const tryGet = async (args: string[]) => k(args).catch(() => '');

  before(async () => {
    cloud = await startTestCloud(dir, { ws: await port(), https: await port(), api: await port() });
  });
  after(async () => {
    await cloud?.daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a new namespace gets `default` and kube-root-ca.crt; its pods get the kube-api-access volume', async (t) => {
    const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
    await k(['create', 'namespace', 'shop']);
    await waitFor(async () => (await tryGet(['get', 'serviceaccount', 'default', '-n', 'shop', '-o', 'name'])).trim() === 'serviceaccount/default', 30_000);
    await waitFor(
      async () => (await tryGet(['get', 'configmap', 'kube-root-ca.crt', '-n', 'shop', '-o', 'jsonpath={.data.ca\\.crt}'])).includes('BEGIN CERTIFICATE'),
      30_000,
    );
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
        spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
      }),
    );
    const vols = await k(['get', 'pod', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.volumes[*].name}']);
    assert.match(vols, /^kube-api-access-[a-z0-9]{5}$/);
    const token = (await k(['create', 'token', 'default', '-n', 'shop'])).trim();
    assert.equal((await k(['auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}'])).trim(), 'system:serviceaccount:shop:default');
    passed();
  });

  test('a Service gets Endpoints and an EndpointSlice once its pod is ready (test kubelet sets the status)', async (t) => {
    const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    );
    const status = { status: { phase: 'Running', podIP: '10.4.0.7', conditions: [{ type: 'Ready', status: 'True' }] } };
    await k(['patch', 'pod', 'web', '-n', 'shop', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    await waitFor(async () => (await tryGet(['get', 'endpoints', 'web', '-n', 'shop'])).includes('10.4.0.7:8080'), 30_000);
    await waitFor(
      async () =>
        (
          await tryGet(['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[*]}'])
        ).trim() === '10.4.0.7',
      30_000,
    );
    passed();
  });

  test('kubectl delete of an owner removes its dependents; kubectl delete namespace waits for the pod’s grace period, then the namespace goes', async (t) => {
    const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log')]);
    const cm = JSON.parse(await k(['create', 'configmap', 'owner', '-n', 'shop', '-o', 'json'])) as { metadata: { uid: string } };
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'owned', namespace: 'shop', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: cm.metadata.uid }] },
        stringData: { a: 'b' },
      }),
    );
    await k(['delete', 'configmap', 'owner', '-n', 'shop']);
    await waitFor(async () => (await tryGet(['get', 'secret', 'owned', '-n', 'shop', '-o', 'name'])) === '', 30_000);
    await k(['delete', 'namespace', 'shop', '--wait=false']);
    await waitFor(async () => (await tryGet(['get', 'pod', 'web', '-n', 'shop', '-o', 'jsonpath={.metadata.deletionTimestamp}'])) !== '', 30_000);
    const phase = await k(['get', 'namespace', 'shop', '-o', 'jsonpath={.status.phase}']);
    assert.equal(phase, 'Terminating');
    await waitFor(
      async () => (await tryGet(['get', 'namespace', 'shop', '-o', 'jsonpath={.status.conditions[?(@.type=="NamespaceContentRemaining")].status}'])) === 'True',
      30_000,
    );
    // what the edge does once the containers stopped
    await k(['delete', 'pod', 'web', '-n', 'shop', '--grace-period=0', '--force']);
    await waitFor(async () => (await tryGet(['get', 'namespace', 'shop', '-o', 'name'])) === '', 30_000);
    passed();
  });
});
