// The EdgeMesh module on a real bus beside a real MetaManager (SQLite in a temp dir), its DNS on loopback at a
// free port: what the cloud sends through MetaManager is answered, edged's pod reports move a local endpoint, and
// a restarted edgecore answers from the store alone.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Bus } from '../../../../src/core/bus.ts';
import { logger } from '../../../../src/core/log.ts';
import { newMessage } from '../../../../src/core/message.ts';
import { ModuleRuntime } from '../../../../src/core/module.ts';
import { EdgeMesh } from '../../../../src/edge/edgemesh/edgemesh.ts';
import { MetaManager } from '../../../../src/edge/metamanager/metamanager.ts';
import { waitFor } from '../../../helpers/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-edgemesh-module-'));
const resolvConf = path.join(dir, 'resolv.conf');
writeFileSync(resolvConf, '');
const log = logger('edgemesh-test');

async function startEdge(): Promise<{ bus: Bus; mesh: EdgeMesh; runtime: ModuleRuntime; dns: Resolver }> {
  const bus = new Bus(log);
  const runtime = new ModuleRuntime(bus, log);
  runtime.add(new MetaManager({ dataSource: path.join(dir, 'edgecore.db') }));
  const mesh = new EdgeMesh({
    enable: true,
    nodeName: 'edge-1',
    clusterDomain: 'cluster.local',
    lbStrategy: 'RoundRobin',
    listenInterface: 'lo',
    subNet: '9.251.0.0/16',
    listenPort: 40001,
    dnsPort: 0,
    upstreamResolvConf: resolvConf,
  });
  runtime.add(mesh);
  await runtime.start();
  const dns = new Resolver({ timeout: 1000, tries: 1 });
  dns.setServers([`127.0.0.1:${mesh.dnsPort}`]);
  return { bus, mesh, runtime, dns };
}

/** What EdgeHub hands MetaManager for a cloud push (edge form of the resource). */
function fromCloud(op: string, resource: string, content: unknown, rv: string) {
  return newMessage({ source: 'edgecontroller', group: 'resource', operation: op, resource, content, resourceVersion: rv });
}

const slice = (ip: string, rv: string) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'default', name: 'db-1', resourceVersion: rv, labels: { 'kubernetes.io/service-name': 'db' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], conditions: { ready: true }, nodeName: 'edge-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-0' } }],
});

test('cloud objects through MetaManager, local pod reports, and a restart on the store alone', async (t) => {
  const first = await startEdge();
  t.after(() => first.runtime.stop());
  const meta = (m: ReturnType<typeof fromCloud>) => first.bus.send('metamanager', m);
  meta(
    fromCloud(
      'insert',
      'default/service/db',
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'db', uid: 'u1', resourceVersion: '10' }, spec: { clusterIP: 'None' } },
      '10',
    ),
  );
  meta(fromCloud('insert', 'default/endpointslice/db-1', slice('172.17.0.5', '11'), '11'));
  const got = await waitFor(async () => (await first.dns.resolve4('db.default.svc.cluster.local').catch(() => [])).join(','), 5000, 50);
  assert.equal(got, '172.17.0.5');

  // edged's status report of the pod (as it sends it to MetaManager, cloud or not): the pod moved.
  const status = { podIP: '172.17.0.9', conditions: [{ type: 'Ready', status: 'True' }] };
  first.bus.send(
    'metamanager',
    newMessage({
      source: 'edged',
      group: 'meta',
      operation: 'patch',
      resource: 'default/podpatch/db-0',
      content: JSON.stringify({ metadata: { uid: 'p1' }, status }),
    }),
  );
  const moved = await waitFor(
    async () => {
      const ips = (await first.dns.resolve4('db.default.svc.cluster.local').catch(() => [])).join(',');
      return ips === '172.17.0.9' ? ips : '';
    },
    5000,
    50,
  );
  assert.equal(moved, '172.17.0.9');
  assert.equal(first.mesh.stats.rejected, 0);

  // A slice without its Service label (nothing to attach it to) is refused, not applied, and nothing breaks.
  meta(fromCloud('insert', 'default/endpointslice/orphan', { metadata: { namespace: 'default', name: 'orphan' }, addressType: 'IPv4' }, '12'));
  await waitFor(async () => first.mesh.stats.rejected === 1, 5000, 50);
  await first.runtime.stop();

  // No cloud, a new process: what the store holds is answered.
  const second = await startEdge();
  try {
    assert.deepEqual(await second.dns.resolve4('db.default.svc.cluster.local'), ['172.17.0.5']);
    assert.equal(second.mesh.store.services().length, 1);
  } finally {
    await second.runtime.stop();
  }
});
