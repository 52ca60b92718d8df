// Issue 13, EdgeMesh proxy end to end: a cloudcore from the sources, two real edgecores on this host, each with its
// own Docker bridge network for its pods (modules.edged.dockerNetwork, as `keadm up --edgemesh` gives them) that is
// also its EdgeMesh listenInterface, a free peer port each, and their mesh tunnels to CloudStream. A Deployment of 2 httpd pods (one per node)
// answering their names behind a Service; from a third pod, a GET of http://web.default.svc.cluster.local:8080/
// alternates between the two (RoundRobin). Scaled to 0: the name still resolves and the connection is refused;
// scaled back it serves again. Cloud stopped: still served, also after a pod restarted offline. Edgecores stopped:
// no rule or chain of theirs is left (iptables-save before/after).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestCloud, testCloudStream, writeTestEdgeConfig } from './helpers/cloud.ts';
import { type Daemon, startDaemon, tailLogsOnFailure } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl') || skipUnless(isRoot, 'root (iptables, Docker networks for the nodes)') || (await dockerSkip());
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-edgemesh-proxy-'));
const ports = { ws: (await bindablePort(0)) as number, https: (await bindablePort(0)) as number, api: (await bindablePort(0)) as number };
const tag = `${process.pid % 100000}`;
const nodes = [`mesh-a-${tag}`, `mesh-b-${tag}`] as const;
const nets = nodes.map((n) => `ke-test-${n}`);
const bridges = [`kpa${tag}`, `kpb${tag}`];
const edges: (Daemon | undefined)[] = [];
let cloud: Daemon | undefined;

const natSave = async () =>
  (await run('iptables-save', ['-t', 'nat'])).stdout
    .split('\n')
    .filter((l) => /KE-MESH-mesh-[ab]-/.test(l) && l.includes(tag))
    .join('\n');

after(async () => {
  for (const e of edges) await e?.stop();
  await cloud?.stop();
  for (const n of nodes) {
    const left = await dockerPs([`label=io.kubeedge-ts.node=${n}`]).catch(() => []);
    if (left.length > 0) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  }
  for (const net of nets) {
    await run('docker', ['rm', '-f', `${net}-anchor`]).catch(() => undefined);
    await run('docker', ['network', 'rm', net]).catch(() => undefined);
  }
});

test('EdgeMesh proxies Service traffic across two edge nodes, RoundRobin, scaled to zero and back, and offline', { skip, timeout: 420_000 }, async (t) => {
  const logs = [path.join(dir, 'cloudcore.log'), ...nodes.map((n) => path.join(dir, `${n}.log`))];
  const passed = tailLogsOnFailure(t, logs);
  await ensureTestImages();
  // One bridge network per node; an anchor container keeps each bridge up (an empty bridge has no carrier).
  for (const [i, net] of nets.entries()) {
    await run('docker', ['network', 'create', '-o', `com.docker.network.bridge.name=${bridges[i]}`, '--label', `io.kubeedge-ts.test=${tag}`, net]);
    await run('docker', ['run', '-d', '--name', `${net}-anchor`, '--network', net, PAUSE_IMAGE]);
  }
  const rulesBefore = await natSave();

  // CloudStream on: each EdgeMesh dials its mesh tunnel there (the relay between nodes)
  const tunnelPort = (await bindablePort(0)) as number;
  const tc = await startTestCloud(dir, ports, testCloudStream(dir, tunnelPort));
  cloud = tc.daemon;
  const k = (args: string[], timeoutMs?: number) => kubectl(tc.kubeconfig, args, timeoutMs);
  for (const [i, node] of nodes.entries()) {
    const edgeDir = path.join(dir, node);
    mkdirSync(edgeDir, { recursive: true });
    const cfg = path.join(edgeDir, 'edgecore.yaml');
    const resolvConf = path.join(edgeDir, 'resolv.conf');
    writeFileSync(resolvConf, '# no upstream for this test\n');
    writeTestEdgeConfig(cfg, { dir: edgeDir, node, token: tc.token, ports, kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock' } });
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('    rootDirectory:', `    dockerNetwork: ${nets[i]}\n    rootDirectory:`));
    const peerPort = (await bindablePort(0)) as number;
    appendFileSync(
      cfg,
      `  edgeMesh: {enable: true, listenInterface: ${bridges[i]}, listenPort: ${peerPort}, dnsPort: 53, upstreamResolvConf: ${resolvConf}}\n`,
    );
    appendFileSync(cfg, `  edgeStream: {server: 127.0.0.1:${tunnelPort}}\n`);
    edges[i] = startDaemon('edgecore', ['--config', cfg], path.join(dir, `${node}.log`));
  }
  for (const node of nodes)
    await waitFor(async () => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 90_000);

  // httpd pods that answer their own names, never two on one node
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
            },
          },
          containers: [
            {
              name: 'httpd',
              image: BUSYBOX_IMAGE,
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              command: ['sh', '-c', 'mkdir -p /www && echo "$POD_NAME" > /www/index.html && exec httpd -f -p 8080 -h /www'],
            },
          ],
        },
      },
    },
  };
  const manifest = path.join(dir, 'web.json');
  writeFileSync(manifest, JSON.stringify(deployment));
  await k(['apply', '-f', manifest]);
  await k(['expose', 'deployment', 'web', '--port=8080']);
  await k(['rollout', 'status', 'deployment/web', '--timeout=150s'], 160_000);
  const webNodes = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' ').sort();
  assert.deepEqual(webNodes, [...nodes].sort(), 'one web pod per node');
  const podNames = async () => (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean).sort();

  // the client pod runs on node a
  await k(['run', 'client', `--image=${BUSYBOX_IMAGE}`, '--restart=Never', `--overrides={"spec":{"nodeName":"${nodes[0]}"}}`, '--', 'sleep', '3600']);
  await k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=90s'], 100_000);
  const client = await waitFor(
    async () => (await dockerPs(['label=io.kubernetes.pod.name=client', 'label=io.kubernetes.container.name=client', 'status=running']))[0] ?? '',
    30_000,
  );
  const wget = async (): Promise<{ ok: boolean; out: string }> => {
    try {
      // The test image's busybox wget crashes (SIGSEGV) on this host for IP-literal and some resolved addresses, so
      // the GET is sent with busybox nc, resolving the same name through the pod's resolv.conf (EdgeMesh's DNS).
      const r = await run('docker', [
        'exec',
        client,
        'sh',
        '-c',
        'printf "GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n" | nc -w 5 web.default.svc.cluster.local 8080',
      ]);
      const body = r.stdout.split(/\r?\n\r?\n/)[1]?.trim() ?? '';
      if (!/^HTTP\/1\.[01] 200/.test(r.stdout)) return { ok: false, out: `no answer: ${r.stdout}${r.stderr}`.trim() };
      return { ok: true, out: body };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return { ok: false, out: `exit ${String(err.code)}: ${err.stdout ?? ''}${err.stderr ?? ''}`.trim() };
    }
  };
  /** Four requests once both pods serve: names in the order they answered. */
  const four = async (names?: string[]): Promise<string[]> => {
    const want = names ?? (await podNames());
    let last = '';
    const got = await waitFor(async () => {
      const names: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await wget();
        last = r.out;
        if (!r.ok) return undefined;
        names.push(r.out);
      }
      last = names.join(',');
      return new Set(names).size === 2 && names.every((g) => want.includes(g)) ? names : undefined;
    }, 90_000).catch((err: unknown) => {
      throw new Error(`web did not answer from both pods (${want.join(',')}): last ${last}`, { cause: err });
    });
    return got ?? [];
  };

  for (const node of nodes)
    await waitFor(async () => readFileSync(path.join(dir, `${node}.log`), 'utf8').includes('EdgeMesh mesh tunnel to the cloud connected'), 30_000);
  const answers = await four();
  assert.equal(answers[0], answers[2], `RoundRobin alternates: ${answers.join(',')}`);
  assert.equal(answers[1], answers[3]);
  assert.notEqual(answers[0], answers[1]);
  assert.match(await natSave(), /-A PREROUTING -i kpa\d+ -j KE-MESH-mesh-a-/, 'node a jumps from its pod bridge');

  // scaled to zero: the name resolves, the connection is refused
  await k(['scale', 'deployment', 'web', '--replicas=0']);
  const refused = await waitFor(async () => {
    const r = await wget();
    return !r.ok && /refused|reset/i.test(r.out) ? r.out : '';
  }, 90_000);
  assert.match(refused, /refused|reset/i);
  const lookup = (await run('docker', ['exec', client, 'nslookup', 'web']).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout;
  assert.match(lookup, /Address:? 9\.251\./, 'the name still resolves');
  await k(['scale', 'deployment', 'web', '--replicas=2']);
  await k(['rollout', 'status', 'deployment/web', '--timeout=150s'], 160_000);
  await four();

  // cloud away: still served; a pod on node a restarted offline is reached at its (new) address
  const names = await podNames();
  await tc.daemon.stop();
  cloud = undefined;
  await four(names);
  // every container of node a's web pod (its sandbox too): edged starts the pod again, Docker gives it an address
  const webContainers: string[] = [];
  for (const id of await dockerPs([`label=io.kubeedge-ts.node=${nodes[0]}`, 'status=running'])) {
    const { stdout } = await run('docker', ['inspect', '-f', '{{index .Config.Labels "io.kubernetes.pod.name"}}', id]);
    if (stdout.startsWith('web-')) webContainers.push(id);
  }
  assert.ok(webContainers.length > 0, 'the web pod on node a has containers');
  await run('docker', ['rm', '-f', ...webContainers]);
  await four(names);

  // edgecores stopped: nothing of theirs in the nat table
  for (const [i, e] of edges.entries()) {
    await e?.stop();
    edges[i] = undefined;
  }
  assert.equal(await natSave(), rulesBefore, 'no KE-MESH rule or chain left');
  passed();
});
