// Issue 13, EdgeMesh DNS, against a cloudcore started from the sources and a real edgecore running pods through a
// real dockerd: a Service and a Deployment in the cloud make the edge answer `web.default.svc.cluster.local` with
// the Service's meshIP and a headless Service with the pods' addresses; a ClusterFirst pod resolves the short
// name `web` through EdgeMesh (Docker --dns / --dns-search as edged set them); with the cloud stopped the edge
// still answers. EdgeMesh listens on an interface of the test's own (one end of a veth pair, with an address of its
// own) on port 53, the port an engine's resolver settings imply: parallel runs never share an address.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { MeshIpam } from '../src/edge/edgemesh/ipam.ts';
import { startTestCloud, writeTestEdgeConfig } from './helpers/cloud.ts';
import { startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || skipUnless(isRoot, 'root (a veth interface for EdgeMesh)') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-edgemesh-dns-'));
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
const tag = `${process.pid % 100000}`;
const node = `edge-mesh-${tag}`;
const ifname = `kem${tag}a`;
// 10.250.0.0/16 /32s, one per process: the interface address EdgeMesh binds (and gives the pods as their resolver).
const meshAddr = `10.250.${Math.floor((process.pid % 65000) / 250)}.${(process.pid % 250) + 1}`;
const fillerLabel = `io.kubeedge-ts.test=edgemesh-${tag}`;
let cloud: Daemon | undefined;
let edge: Daemon | undefined;

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  const fillers = await dockerPs([`label=${fillerLabel}`]).catch(() => []);
  if (fillers.length > 0) await run('docker', ['rm', '-f', ...fillers]).catch(() => undefined);
  await run('ip', ['link', 'del', ifname]).catch(() => undefined);
});

test('EdgeMesh answers Service names from the cloud, to pods through their resolv.conf, and while the cloud is away', { skip, timeout: 300_000 }, async (t) => {
  const edgeLog = path.join(dir, `${node}.log`);
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), edgeLog]);
  await ensureTestImages();
  await run('ip', ['link', 'add', ifname, 'type', 'veth', 'peer', 'name', `kem${tag}b`]);
  await run('ip', ['addr', 'add', `${meshAddr}/32`, 'dev', ifname]);
  await run('ip', ['link', 'set', ifname, 'up']);
  await run('ip', ['link', 'set', `kem${tag}b`, 'up']);

  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  const k = (args: string[], timeoutMs?: number) => kubectl(tc.kubeconfig, args, timeoutMs);
  const edgeDir = path.join(dir, node);
  mkdirSync(edgeDir, { recursive: true });
  const cfg = path.join(edgeDir, 'edgecore.yaml');
  // No upstream resolvers: names that are not the cluster's get SERVFAIL, nothing leaves the host.
  const resolvConf = path.join(edgeDir, 'resolv.conf');
  writeFileSync(resolvConf, '# no upstream for this test\n');
  writeTestEdgeConfig(cfg, { dir: edgeDir, node, token: tc.token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
  // a free peer port: never the fixed 40001 in a test
  const peerPort = (await bindablePort(0)) as number;
  appendFileSync(cfg, `  edgeMesh: {enable: true, listenInterface: ${ifname}, listenPort: ${peerPort}, dnsPort: 53, upstreamResolvConf: ${resolvConf}}\n`);
  edge = startDaemon('edgecore', ['--config', cfg], edgeLog);
  await waitFor(async () => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 60_000);
  assert.equal(await k(['get', 'node', node, '-o', 'jsonpath={.metadata.labels.kubeedge\\.io/edgemesh}']), 'enabled');

  await k(['create', 'deployment', 'web', `--image=${BUSYBOX_IMAGE}`, '--replicas=2', '--', 'httpd', '-f', '-p', '8080']);
  await k(['expose', 'deployment', 'web', '--port=8080']);
  await k(['create', 'service', 'clusterip', 'web-pods', '--clusterip=None', '--tcp=8080:8080']);
  await k(['set', 'selector', 'service', 'web-pods', 'app=web']);
  await k(['rollout', 'status', 'deployment/web', '--timeout=120s'], 130_000);

  const dns = new Resolver({ timeout: 2000, tries: 2 });
  dns.setServers([meshAddr]);
  const meshIP = new MeshIpam('9.251.0.0/16').allocate('default', 'web');
  const a = await waitFor(async () => (await dns.resolve4('web.default.svc.cluster.local').catch(() => [])).join(','), 60_000);
  assert.equal(a, meshIP, 'the Service resolves to the meshIP every node computes for default/web');
  const podIPs = async () => (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).split(' ').filter(Boolean).sort().join(',');
  const expected = await waitFor(async () => {
    const ips = await podIPs();
    return ips.split(',').length === 2 ? ips : '';
  }, 30_000);
  const headless = await waitFor(async () => {
    const got = (await dns.resolve4('web-pods.default.svc.cluster.local').catch(() => [])).sort().join(',');
    return got === expected ? got : '';
  }, 30_000);
  assert.equal(headless, expected, 'the headless Service resolves to the ready pods');
  await assert.rejects(dns.resolve4('nosuch.default.svc.cluster.local'), { code: 'ENOTFOUND' }, 'NXDOMAIN for an unknown Service');

  // A ClusterFirst pod: edged gave its sandbox EdgeMesh as resolver and the namespace's search path.
  await k(['run', 'client', `--image=${BUSYBOX_IMAGE}`, '--restart=Never', '--', 'sleep', '3600']);
  await k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=90s'], 100_000);
  const client = await waitFor(
    async () => (await dockerPs(['label=io.kubernetes.pod.name=client', 'label=io.kubernetes.container.name=client', 'status=running']))[0] ?? '',
    30_000,
  );
  const { stdout: resolvInPod } = await run('docker', ['exec', client, 'cat', '/etc/resolv.conf']);
  assert.match(resolvInPod, new RegExp(`nameserver ${meshAddr.replaceAll('.', '\\.')}`));
  assert.match(resolvInPod, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  assert.match(resolvInPod, /ndots:5/);
  const lookup = async () => (await run('docker', ['exec', client, 'nslookup', 'web']).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout;
  assert.match(await lookup(), new RegExp(`Address:? ${meshIP.replaceAll('.', '\\.')}`), 'nslookup web inside the pod answers the meshIP');

  // Cloud away: the edge answers from what it stored.
  await tc.daemon.stop();
  cloud = undefined;
  assert.deepEqual(await dns.resolve4('web.default.svc.cluster.local'), [meshIP]);
  assert.equal((await dns.resolve4('web-pods.default.svc.cluster.local')).sort().join(','), expected);
  assert.match(await lookup(), new RegExp(`Address:? ${meshIP.replaceAll('.', '\\.')}`));

  // A pod whose sandbox dies meanwhile comes back at a new address; the edge learns it from edged's own report,
  // with no cloud to update the endpoints. Docker's bridge hands out the lowest free address, so the old one is
  // taken first (the sandbox leaves the network, a filler container gets its address) to make the move certain.
  const sandboxes = await dockerPs([`label=io.kubeedge-ts.node=${node}`, 'label=io.kubernetes.container.name=POD', 'status=running']);
  const { stdout: inspect } = await run('docker', ['inspect', ...sandboxes]);
  type Inspected = { Id: string; Config: { Labels: Record<string, string> }; NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
  const webSandbox = (JSON.parse(inspect) as Inspected[]).find((c) => c.Config.Labels['io.kubernetes.pod.name']?.startsWith('web-') === true);
  assert.ok(webSandbox !== undefined, 'a web pod sandbox runs');
  const oldIP = webSandbox.NetworkSettings.Networks['bridge']?.IPAddress ?? '';
  assert.match(oldIP, /^\d+\.\d+\.\d+\.\d+$/);
  await run('docker', ['network', 'disconnect', 'bridge', webSandbox.Id]);
  await run('docker', ['run', '-d', '--label', fillerLabel, BUSYBOX_IMAGE, 'sleep', '600']);
  await run('docker', ['rm', '-f', webSandbox.Id]);
  let seen = '';
  const moved = await waitFor(
    async () => {
      const got = (await dns.resolve4('web-pods.default.svc.cluster.local').catch(() => [])).sort();
      seen = got.join(',');
      return got.length === 2 && !got.includes(oldIP) ? got.join(',') : '';
    },
    60_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`headless answer stayed ${seen} (old sandbox address ${oldIP})`, { cause: err });
  });
  t.diagnostic(`headless answer moved from ${expected} to ${moved}`);

  // And after an edgecore restart with the cloud still away (loaded from the local store).
  await edge.stop();
  edge = startDaemon('edgecore', ['--config', cfg], edgeLog);
  const again = await waitFor(async () => (await dns.resolve4('web.default.svc.cluster.local').catch(() => [])).join(','), 60_000);
  assert.equal(again, meshIP);
  // edged re-reports the pods it adopts at start: the address stays the one it learnt.
  const afterRestart = await waitFor(async () => {
    const got = (await dns.resolve4('web-pods.default.svc.cluster.local').catch(() => [])).sort().join(',');
    return got === moved ? got : '';
  }, 60_000);
  assert.equal(afterRestart, moved);
  passed();
});
