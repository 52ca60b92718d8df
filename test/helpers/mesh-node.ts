/**
 * One EdgeMesh node as its own process, for tests that put nodes in separate network namespaces
 * (`ip netns exec NS node test/helpers/mesh-node.ts <config.json>`): the proxy component with real iptables in
 * that namespace, a hand-filled store, optionally a "pod" (an HTTP server answering its name) on a pod IP, and
 * the mesh tunnel to a relay. It prints `ready <peerPort>` once the mesh tunnel is up; then each line on stdin
 * `get <host> <port>` is answered on stdout with `ok <body>` or `err <code>`. Ends (removing its rules) on stdin EOF.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ProxyComponent } from '../../src/edge/edgemesh/proxy/component.ts';
import type { ProxyEndpoint, ProxyService } from '../../src/edge/edgemesh/proxy/types.ts';
import { dialTunnel } from '../../src/stream/index.ts';
import { HandStore, get, nameServer } from './mesh-store.ts';

type NodeConfig = {
  node: string;
  listenInterface: string;
  listenIP: string;
  advertiseIP: string;
  certDir: string;
  relay: string;
  pod?: { name: string; ip: string };
  peers: Record<string, { host: string; port: number }>;
  service: ProxyService;
  /** Endpoints with `port: 0` for the pod get the pod server's port. */
  endpoints: ProxyEndpoint[];
  podPort?: number;
};

const cfg = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as NodeConfig;
const read = (f: string) => readFileSync(`${cfg.certDir}/${cfg.node}.${f}`);
const creds = { ca: readFileSync(`${cfg.certDir}/ca.crt`), cert: read('crt'), key: read('key') };
const pod = cfg.pod !== undefined ? await nameServer(cfg.pod.name, cfg.pod.ip) : undefined;
const store = new HandStore();
const component = new ProxyComponent({
  store,
  nodeName: cfg.node,
  lbStrategy: 'RoundRobin',
  listenInterface: cfg.listenInterface,
  listenIP: cfg.listenIP,
  listenPort: 0,
  advertiseIP: cfg.advertiseIP,
  creds: () => creds,
  addresses: (n) => cfg.peers[n],
  dialTunnel: () => dialTunnel({ url: cfg.relay, ...creds, nodeName: cfg.node, purpose: 'mesh' }),
});
await component.start();
store.set(cfg.service, cfg.endpoints);
await component.proxy.settled();
while (!component.tunnelConnected) await new Promise((r) => setTimeout(r, 20));
process.stdout.write(`ready ${component.peerPort} ${pod?.port ?? 0}\n`);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === 'endpoints') {
    store.setEndpoints(cfg.service.namespace, cfg.service.name, JSON.parse(a ?? '[]') as ProxyEndpoint[]);
    void component.proxy.settled().then(() => process.stdout.write('ok endpoints\n'));
    return;
  }
  if (cmd !== 'get') return;
  get(a ?? '', Number(b)).then(
    (body) => process.stdout.write(`ok ${body} ${component.peers.stats.direct} ${component.peers.stats.relayed}\n`),
    (err: NodeJS.ErrnoException) => process.stdout.write(`err ${err.code ?? err.message}\n`),
  );
});
rl.on('close', () => {
  void component.stop().then(async () => {
    await pod?.close();
    process.exit(0);
  });
});
