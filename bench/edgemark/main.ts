// edgemark on its own: a simulated edge fleet against ANY KubeEdge-compatible cloudcore.
//   node bench/edgemark/main.ts --server 10.0.0.1:10000 --http-server https://10.0.0.1:10002 --token <caHash.jwt> -n 1000
// Prints enrolment/connect progress and, with --kubeconfig, the time until all nodes are Ready in the API.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureEdgeCertificates } from '../../src/edge/edgehub/certificate/bootstrap.ts';
import { Api } from '../lib/api.ts';
import { sharedFleetCerts } from './shared-cert.ts';
import { machine, machineLine } from '../lib/machine.ts';
import { waitUntil } from '../lib/pool.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';
import { NodeWatch, PROJECT_ID } from '../scenarios/session.ts';
import { Fleet } from './fleet.ts';

const { values: a } = parseArgs({
  options: {
    server: { type: 'string' },
    'http-server': { type: 'string' },
    token: { type: 'string' },
    n: { type: 'string', short: 'n', default: '100' },
    prefix: { type: 'string', default: 'edgemark' },
    workers: { type: 'string', default: '2' },
    ramp: { type: 'string', default: '0' },
    'shared-cert': { type: 'boolean', default: false },
    'project-id': { type: 'string', default: PROJECT_ID },
    kubeconfig: { type: 'string' },
    'hold-sec': { type: 'string', default: '0' },
    'status-every-tick': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help || a.server === undefined || a['http-server'] === undefined || a.token === undefined) {
  process.stdout.write(`edgemark: N simulated KubeEdge edge nodes (enrolment, WebSocket/TLS, registration, status, lease, pod acks)
  --server host:port         CloudHub WebSocket address (modules.cloudHub.websocket)
  --http-server https://h:p  certificate service (modules.cloudHub.https)
  --token <caHash>.<jwt>     join token (keadm gettoken); the CA is pinned by its hash
  -n N                       nodes (default 100)       --prefix P   node names P-0..P-(N-1)
  --workers W                processes (default 2)     --ramp R     dials per second (0 = unlimited)
  --shared-cert              one enrolment for all nodes instead of a CSR per node
  --kubeconfig K             watch the nodes in the API and report when all are Ready
  --hold-sec S               keep the fleet running S seconds afterwards (0 = until Ctrl-C)
  --status-every-tick        nodepatch every 10 s (old behaviour) instead of on change / reconnect / every 5 min
`);
  process.exit(a.help ? 0 : 2);
}
const n = Number(a.n);
const dir = mkdtempSync(path.join(os.tmpdir(), 'edgemark-'));
console.log(`edgemark: ${n} nodes, ${a.workers} workers, machine ${machineLine(machine())}`);
// Against our cloudcore (--kubeconfig given) the fleet shares a KubeEdge-style CN=kubeedge.io certificate: ours
// names every enrolled certificate after its node, and a named one speaks for that node only.
const shared = a['shared-cert']
  ? a.kubeconfig !== undefined
    ? await sharedFleetCerts(new Api(a.kubeconfig))
    : await ensureEdgeCertificates({
        httpServer: a['http-server'],
        token: a.token,
        nodeName: `${a.prefix}-shared`,
        caFile: path.join(dir, 's/ca.crt'),
        certFile: path.join(dir, 's/c.crt'),
        keyFile: path.join(dir, 's/c.key'),
      })
  : undefined;
const fleet = new Fleet({
  workers: Number(a.workers),
  server: a.server,
  httpServer: a['http-server'],
  token: a.token,
  projectId: a['project-id'],
  certDir: path.join(dir, 'edges'),
  ...(shared ? { sharedCerts: shared } : {}),
  heartbeatSec: 15,
  statusPeriodMs: 10_000,
  statusReportMs: a['status-every-tick'] ? 0 : 5 * 60_000,
  leaseDurationSec: 40,
  requestTimeoutMs: 30_000,
  redialMs: [1000, 3000],
});
const api = a.kubeconfig ? new Api(a.kubeconfig) : undefined;
const watch = api ? new NodeWatch(api) : undefined;
const names = Array.from({ length: n }, (_, i) => `${a.prefix}-${i}`);
const t0 = Date.now();
await fleet.add(names, Number(a.ramp));
const recs = names.map((x) => fleet.nodes.get(x));
const enrolled = recs.filter((r) => r?.enrolError === undefined && r?.enrolledAt !== undefined);
const connected = recs.filter((r) => r?.firstConnectAt !== undefined);
console.log(
  `enrolled ${enrolled.length}/${n} (${fmt(rate(enrolled.length, Math.max(...enrolled.map((r) => r?.enrolledAt ?? 0)) - t0))}/s, p50 ${fmt(summarize(enrolled.map((r) => r?.enrolMs ?? NaN)).p50)} ms)`,
);
console.log(`connected ${connected.length}/${n} (${fmt(rate(connected.length, Math.max(...connected.map((r) => r?.firstConnectAt ?? 0)) - t0))}/s)`);
for (const r of recs.filter((x) => x?.enrolError).slice(0, 5)) console.log(`  ${r?.name}: ${r?.enrolError}`);
if (watch) {
  const ok = await waitUntil(() => watch.countReady(names) === n, Math.max(120_000, n * 100), 200);
  const last = Math.max(...names.map((x) => watch.firstReadyAt.get(x) ?? NaN));
  console.log(ok ? `all ${n} Ready after ${fmt((last - t0) / 1000, 2)} s` : `NOT all Ready: ${watch.countReady(names)}/${n}`);
}
const st = await fleet.stats();
console.log(`fleet counters: ${JSON.stringify(st.totals)}`);
const hold = Number(a['hold-sec']);
const stop = async () => {
  watch?.stop();
  api?.close();
  await fleet.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
if (hold > 0) setTimeout(() => void stop(), hold * 1000);
else console.log('running; Ctrl-C stops the fleet');
