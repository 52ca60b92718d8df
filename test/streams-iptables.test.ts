// Issue 12, real-cluster path: cloudcore's iptablesManager DNATs <node InternalIP>:<kubelet port> to its stream
// server while the node's tunnel is up. cloudcore, the edge and a client standing in for the kube-apiserver all
// run in a network namespace made here, so the rules are written there and never on the host. The node address
// is routed into a veth whose far end has no address (a black hole): only the DNAT can make a connection to it succeed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { certDerToPem, keyDerToPem } from '../src/pki/pem.ts';
import { createCA, issueKeyPair } from '../src/pki/x509.ts';
import { writeTestEdgeConfig } from './helpers/cloud.ts';
import { type Daemon, runCommand, spawnDaemon, tailLogsOnFailure } from './helpers/daemon.ts';
import { BUSYBOX_IMAGE, dockerPs, dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectlEnv, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const netnsOk = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0 && spawnSync('iptables-save', ['--version']).status === 0;
const skip = skipUnless(netnsOk, 'root with ip netns and iptables') || skipUnless(kubectlPath() !== undefined, 'kubectl') || (await dockerSkip());
const suffix = Math.random().toString(16).slice(2, 6);
const ns = `keipt-${suffix}`;
const net = 100 + Math.floor(Math.random() * 100);
const streamIP = `10.253.${net}.1`;
const nodeIP = `10.253.${net}.7`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-streams-iptables-'));
const kubeconfig = path.join(dir, 'admin.kubeconfig');
const node = 'edge-ipt-1';
const free = async (): Promise<number> => (await bindablePort(0)) as number;
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let nsMade = false;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (cmd: string, args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
const netArg = `--net=/var/run/netns/${ns}`;
/** The nat table as iptables-save prints it, without its timestamps and packet counters. */
const natRules = (): string =>
  inNs('iptables-save', ['-t', 'nat'])
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .join('\n');
async function k(args: string[]): Promise<string> {
  const r = await runCommand('nsenter', [netArg, '--', kubectlPath() ?? 'kubectl', '--kubeconfig', kubeconfig, ...args], kubectlEnv());
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The kube-apiserver stand-in: dials the node's kubelet address as the API server would, with a stream-CA client cert. */
async function apiServerGet(url: string, withCert: boolean): Promise<{ status: number; body: string }> {
  const script = `
const https = require('node:https'); const fs = require('node:fs');
const d = ${JSON.stringify(path.join(dir, 'stream'))};
const o = { ca: fs.readFileSync(d + '/cloud-ca.crt'), checkServerIdentity: () => undefined, timeout: 10000 };
if (${withCert}) { o.cert = fs.readFileSync(d + '/apiserver-kubelet-client.crt'); o.key = fs.readFileSync(d + '/apiserver-kubelet-client.key'); }
https.get(${JSON.stringify(url)}, o, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => { console.log(JSON.stringify({ status: res.statusCode, body: b })); }); })
  .on('error', (e) => { console.log(JSON.stringify({ status: 0, body: e.message })); });`;
  const r = await runCommand('nsenter', [netArg, '--', process.execPath, '-e', script], {});
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { status: number; body: string };
}

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  if (nsMade) spawnSync('ip', ['netns', 'del', ns]);
  const left = await dockerPs([`label=io.kubeedge-ts.node=${node}`]).catch(() => []);
  if (left.length > 0) spawnSync('docker', ['rm', '-f', ...left]);
});

test('iptablesManager: the kube-apiserver reaches an edge kubelet at <nodeIP>:<port> through the DNAT cloudcore programs, and the rules go with the tunnel and at stop', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), path.join(dir, 'edgecore.log')]);
  await ensureTestImages();
  sh('ip', ['netns', 'add', ns]);
  nsMade = true;
  inNs('ip', ['link', 'set', 'lo', 'up']);
  // A veth pair with an address on one end only: the node address is routed there and nobody answers for it.
  inNs('ip', ['link', 'add', 'keipt0', 'type', 'veth', 'peer', 'name', 'keipt1']);
  inNs('ip', ['addr', 'add', `${streamIP}/24`, 'dev', 'keipt0']);
  inNs('ip', ['link', 'set', 'keipt0', 'up']);
  inNs('ip', ['link', 'set', 'keipt1', 'up']);
  const before = natRules();

  // The stream CA: whose client certificates the stream server takes (the kube-apiserver's kubelet client cert).
  mkdirSync(path.join(dir, 'stream'));
  const streamCA = await createCA('kube-apiserver-kubelet-client-ca');
  const client = await issueKeyPair(streamCA, { subject: 'CN=kube-apiserver-kubelet-client, O=system:masters', usages: ['clientAuth'], days: 1 });
  writeFileSync(path.join(dir, 'stream/streamCA.crt'), certDerToPem(streamCA.certDer));
  writeFileSync(path.join(dir, 'stream/apiserver-kubelet-client.crt'), certDerToPem(client.certDer));
  writeFileSync(path.join(dir, 'stream/apiserver-kubelet-client.key'), keyDerToPem(client.keyDer));

  const ports = { ws: await free(), https: await free(), api: await free(), tunnel: await free() };
  const streamPort = await free();
  const kubeletPort = await free();
  const cloudConfig = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    cloudConfig,
    `modules:
  cloudHub:
    advertiseAddress: [127.0.0.1, ${streamIP}]
    tlsCAFile: ${dir}/cloud/rootCA.crt
    tlsCAKeyFile: ${dir}/cloud/rootCA.key
    tlsCertFile: ${dir}/cloud/server.crt
    tlsPrivateKeyFile: ${dir}/cloud/server.key
    websocket: {port: ${ports.ws}}
    https: {port: ${ports.https}}
  apiServer: {port: ${ports.api}, dataDir: ${dir}/apiserver, adminKubeConfig: ${kubeconfig}}
  cloudStream: {enable: true, tunnelPort: ${ports.tunnel}, streamPort: ${streamPort}, tlsTunnelCAFile: ${dir}/cloud/rootCA.crt, tlsTunnelCertFile: ${dir}/cloud/server.crt, tlsTunnelPrivateKeyFile: ${dir}/cloud/server.key, tlsStreamCAFile: ${dir}/stream/streamCA.crt, tlsStreamCertFile: ${dir}/stream/stream.crt, tlsStreamPrivateKeyFile: ${dir}/stream/stream.key}
  iptablesManager: {enable: true, mode: internal}
`,
  );
  cloud = spawnDaemon(
    'nsenter',
    [netArg, '--', process.execPath, path.join(ROOT, 'src/cmd/cloudcore.ts'), '--config', cloudConfig],
    path.join(dir, 'cloudcore.log'),
    {
      ...process.env,
    },
  );
  const token = await waitFor(async () => {
    const r = await runCommand(
      'nsenter',
      [netArg, '--', process.execPath, path.join(ROOT, 'src/cmd/keadm.ts'), 'gettoken', '--kube-config', kubeconfig],
      process.env,
    );
    return r.code === 0 ? r.stdout.trim() : '';
  }, 30_000);
  const edgeConfig = path.join(dir, 'edgecore.yaml');
  writeTestEdgeConfig(edgeConfig, {
    dir,
    node,
    token,
    ports,
    kubelet: { containerRuntimeEndpoint: 'unix:///var/run/docker.sock', readOnlyPort: String(kubeletPort) },
  });
  writeFileSync(
    edgeConfig,
    `${readFileSync(edgeConfig, 'utf8').replace(`hostnameOverride: ${node}\n`, `hostnameOverride: ${node}\n    nodeIP: ${nodeIP}\n`)}  edgeStream: {enable: true, server: 127.0.0.1:${ports.tunnel}}\n`,
  );
  edge = spawnDaemon(
    'nsenter',
    [netArg, '--', process.execPath, path.join(ROOT, 'src/cmd/edgecore.ts'), '--config', edgeConfig],
    path.join(dir, 'edgecore.log'),
    {
      ...process.env,
    },
  );
  await waitFor(async () => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 45_000);
  // The cloud CA (which signed the stream server's certificate), as the edge fetched it at join.
  writeFileSync(path.join(dir, 'stream/cloud-ca.crt'), readFileSync(path.join(dir, 'edge/rootCA.crt')));
  const advertised = (
    await k(['get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address} {.status.daemonEndpoints.kubeletEndpoint.Port}'])
  ).trim();
  assert.equal(advertised, `${nodeIP} ${kubeletPort}`, 'the node advertises the address the kube-apiserver dials');

  writeFileSync(
    path.join(dir, 'pod.yaml'),
    `apiVersion: v1
kind: Pod
metadata: {name: via-dnat}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo hello-through-the-dnat; exec sleep 100000"]
`,
  );
  await k(['apply', '-f', path.join(dir, 'pod.yaml')]);
  await waitFor(async () => (await k(['get', 'pod', 'via-dnat', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000);

  const rule = `-A KE-STREAM -d ${nodeIP}/32 -p tcp -m tcp --dport ${kubeletPort}`;
  await waitFor(async () => natRules().includes(rule), 20_000);
  const nat = natRules();
  assert.match(nat, /-A OUTPUT -j KE-STREAM/);
  assert.match(nat, /-A PREROUTING -j KE-STREAM/);
  assert.ok(nat.includes(`--to-destination ${streamIP}:${streamPort}`), nat);

  const url = `https://${nodeIP}:${kubeletPort}/containerLogs/default/via-dnat/app`;
  const logs = await waitFor(async () => {
    const r = await apiServerGet(url, true);
    return r.status === 200 && r.body.includes('hello-through-the-dnat') ? r : undefined;
  }, 20_000);
  assert.match(logs?.body ?? '', /hello-through-the-dnat/);
  const anonymous = await apiServerGet(url, false);
  assert.notEqual(anonymous.status, 200, 'a client without the stream CA certificate is refused');

  // The tunnel goes with the edge: its DNAT goes too, the chain stays while cloudcore runs.
  await edge.stop();
  edge = undefined;
  await waitFor(async () => !natRules().includes(rule), 30_000);
  assert.match(natRules(), /:KE-STREAM/);

  await cloud.stop();
  cloud = undefined;
  assert.equal(natRules(), before, 'cloudcore left nothing behind in the nat table');
  passed();
});
