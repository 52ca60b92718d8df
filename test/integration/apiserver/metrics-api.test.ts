// metrics.k8s.io/v1beta1 of the embedded API server with the real kubectl: discovery, `kubectl top node/pod`
// (namespaced, all namespaces, label selectors), GET by name, and what is never served: samples of pods that are
// gone or bound to another node than the one reporting, and samples too old to trust.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startApiServer, type RunningApiServer } from '../../../src/apiserver/index.ts';
import type { MetricsSample } from '../../../src/apiserver/metrics/types.ts';
import { logger } from '../../../src/core/log.ts';
import { kubectl, kubectlOk } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(join(tmpdir(), 'ke-metrics-api-'));
let samples: MetricsSample[] = [];
let s: RunningApiServer;

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { zone: name === 'edge-a' ? 'a' : 'b' } } });
const pod = (ns: string, name: string, nodeName: string, app: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels: { app } },
  spec: { nodeName, containers: [{ name: 'main', image: 'busybox' }] },
});

before(async () => {
  if (skip) return;
  const log = logger('apiserver-test');
  log.level = 'warn';
  s = await startApiServer({
    address: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    adminKubeConfig: join(dir, 'admin.conf'),
    log,
    metrics: () => samples,
  });
  const items = [
    node('edge-a'),
    node('edge-b'),
    pod('default', 'web', 'edge-a', 'web'),
    pod('default', 'db', 'edge-a', 'db'),
    pod('other', 'job', 'edge-b', 'job'),
  ];
  await kubectlOk(s, ['create', 'namespace', 'other']);
  await kubectlOk(s, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const now = new Date().toISOString();
  samples = [
    {
      nodeName: 'edge-a',
      timestamp: now,
      windowSeconds: 15,
      node: { usageNanoCores: 1_500_000_000, memoryWorkingSetBytes: 512 * 1024 * 1024 },
      pods: [
        { namespace: 'default', name: 'web', containers: [{ name: 'main', usageNanoCores: 250_000_000, workingSetBytes: 64 * 1024 * 1024 }] },
        { namespace: 'default', name: 'db', containers: [{ name: 'main', usageNanoCores: 5_000_000, workingSetBytes: 8 * 1024 * 1024 }] },
        // gone from the API server: not served
        { namespace: 'default', name: 'deleted', containers: [{ name: 'main', usageNanoCores: 1, workingSetBytes: 1 }] },
        // bound to edge-b: edge-a cannot report for it
        { namespace: 'other', name: 'job', containers: [{ name: 'main', usageNanoCores: 9e9, workingSetBytes: 9e9 }] },
      ],
    },
    // edge-b last reported ten minutes ago
    {
      nodeName: 'edge-b',
      timestamp: new Date(Date.now() - 600_000).toISOString(),
      windowSeconds: 15,
      node: { usageNanoCores: 1, memoryWorkingSetBytes: 1 },
      pods: [{ namespace: 'other', name: 'job', containers: [{ name: 'main', usageNanoCores: 1, workingSetBytes: 1 }] }],
    },
  ];
});

after(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.trim().split(/\s+/));

test('discovery lists metrics.k8s.io/v1beta1 with nodes and pods (get, list), as metrics-server registers it', { skip }, async () => {
  const out = await kubectlOk(s, ['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
  assert.deepEqual(
    rows(out).map((r) => [r[0], r.at(-2), r.at(-1)]),
    [
      ['nodes', 'false', 'NodeMetrics'],
      ['pods', 'true', 'PodMetrics'],
    ],
  );
});

test('kubectl top node shows the reporting node; a node whose sample is stale shows no usage', { skip }, async () => {
  const out = await kubectlOk(s, ['top', 'node', '--no-headers']);
  const a = rows(out).find((r) => r[0] === 'edge-a');
  assert.deepEqual([a?.[1], a?.find((c) => c.endsWith('Mi'))], ['1500m', '512Mi'], out);
  const b = rows(out).find((r) => r[0] === 'edge-b');
  assert.ok(b === undefined || b.includes('<unknown>'), out);
  const sel = await kubectlOk(s, ['top', 'node', '-l', 'zone=a', '--no-headers']);
  assert.deepEqual(
    rows(sel).map((r) => r[0]),
    ['edge-a'],
  );
});

test('kubectl top pod: what the node runs, by namespace and label; never a deleted pod or one of another node', { skip }, async () => {
  const out = await kubectlOk(s, ['top', 'pod', '--no-headers']);
  assert.deepEqual(rows(out), [
    ['db', '5m', '8Mi'],
    ['web', '250m', '64Mi'],
  ]);
  const all = await kubectlOk(s, ['top', 'pod', '-A', '--no-headers']);
  assert.ok(!all.includes('job') && !all.includes('deleted'), all);
  const web = await kubectlOk(s, ['top', 'pod', '-l', 'app=web', '--no-headers', '--containers']);
  assert.deepEqual(rows(web), [['web', 'main', '250m', '64Mi']]);
  const one = JSON.parse(await kubectlOk(s, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web'])) as Record<string, unknown>;
  assert.equal(one['kind'], 'PodMetrics');
  assert.equal(one['window'], '15s');
  const missing = await kubectl(s, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/deleted']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /NotFound|not found/);
});

test('kubectl get nodes.metrics.k8s.io and podmetrics print a table: name, CPU, memory, window', { skip }, async () => {
  const nodes = await kubectlOk(s, ['get', 'nodes.metrics.k8s.io', '--no-headers']);
  assert.deepEqual(rows(nodes), [['edge-a', '1500000000n', '524288Ki', '15s']]);
  const pods = await kubectlOk(s, ['get', 'pods.metrics.k8s.io', '-l', 'app=web']);
  assert.deepEqual(rows(pods), [
    ['NAME', 'CPU', 'MEMORY', 'WINDOW'],
    ['web', '250000000n', '65536Ki', '15s'],
  ]);
});
