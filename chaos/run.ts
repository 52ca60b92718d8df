// The chaos suite: a rollout over simulated and real edges while cloudcore, the API server and the real edges are
// killed, cut off, filled up and corrupted at seeded random points; afterwards every pod that should run runs
// exactly once and every acked object is on its edge at its latest resourceVersion.
//   npm run chaos -- --profile quick|full [--seed N] [--keep] [--verbose]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Fleet } from '../bench/edgemark/fleet.ts';
import { Api } from '../bench/lib/api.ts';
import { PROJECT_ID } from '../bench/scenarios/session.ts';
import { DockerClient } from '../src/containers/index.ts';
import { ensureBusyboxImage, PAUSE_CHANGES, SHELL_CHANGES } from '../src/keadm/image/busybox.ts';
import { check, type CheckResult, type SimWrite } from './lib/check.ts';
import { bundleDaemons } from './lib/bundle.ts';
import { ChaosCloud } from './lib/cloud.ts';
import { RealEdge } from './lib/edge.ts';
import { FAULT_KINDS, FaultLog, plan, runStream, type FaultKind } from './lib/faults.ts';
import { Rng } from './lib/rng.ts';
import { sleep } from './lib/sh.ts';
import { Client, configMapObject, NS, podObject, type PodPlan } from './lib/workload.ts';

type Profile = {
  simEdges: number;
  realEdges: number;
  simPods: number;
  realPods: number;
  configMaps: number;
  /** Faults of every kind (over all targets of that kind). */
  perKind: number;
  /** Pause before each fault, per stream. */
  gapMs: [number, number];
  /** How long a full disk lasts. */
  holdMs: [number, number];
  /** How long a cut link lasts: some cuts outlast the edge's 5 s heartbeat, so both ends notice and redial. */
  cutMs: [number, number];
  /** Share of the pods deleted during the chaos. */
  deleteShare: number;
  settleMs: number;
};

const PROFILES: Record<string, Profile> = {
  quick: {
    simEdges: 10,
    realEdges: 2,
    simPods: 90,
    realPods: 10,
    configMaps: 8,
    perKind: 50,
    gapMs: [300, 2000],
    holdMs: [500, 4000],
    cutMs: [500, 10_000],
    deleteShare: 0.1,
    settleMs: 150_000,
  },
  full: {
    simEdges: 50,
    realEdges: 2,
    simPods: 480,
    realPods: 20,
    configMaps: 20,
    perKind: 100,
    gapMs: [500, 4000],
    holdMs: [1000, 10_000],
    cutMs: [1000, 15_000],
    deleteShare: 0.1,
    settleMs: 300_000,
  },
};

const IMAGE = 'local/busybox:1';
const PAUSE = 'kubeedge/pause:3.6';
const DOCKER = 'unix:///var/run/docker.sock';

const { values: a } = parseArgs({
  options: {
    profile: { type: 'string', default: 'quick' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const chosen = PROFILES[a.profile ?? ''];
if (a.help || chosen === undefined) {
  process.stdout.write(`npm run chaos -- [--profile quick|full] [--seed N] [--keep] [--verbose]
  quick: ${PROFILES['quick']?.perKind} faults of every kind, ${PROFILES['quick']?.simPods} + ${PROFILES['quick']?.realPods} pods (CI)
  full:  ${PROFILES['full']?.perKind} faults of every kind, ${PROFILES['full']?.simPods} + ${PROFILES['full']?.realPods} pods over ${PROFILES['full']?.simEdges} simulated + 2 real edges
  --seed N   repeat a run's fault plan (the seed is printed at the start)
  --keep     keep the run directory (logs, databases) afterwards
  --verbose  print every fault as it is injected
Needs root (network namespaces, iptables, tmpfs mounts) and a Docker engine.
`);
  process.exit(a.help ? 0 : 2);
}
const profile: Profile = chosen;
const seed = a.seed !== undefined ? Number(a.seed) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const rng = new Rng(seed);
console.log(`chaos: profile ${a.profile}, seed ${seed} (repeat with --seed ${seed})`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'kechaos-'));
// Names of this run (nodes, namespaces, interfaces, container labels): two runs on one host stay apart.
const tag = `kc${process.pid % 100_000}`;
const subnet = process.pid % 250;
const faults = new FaultLog(a.verbose === true);
console.log('bundling cloudcore, edgecore and the API server from the sources');
const bins = await bundleDaemons(path.join(dir, 'bin'));
const edges: RealEdge[] = Array.from(
  { length: profile.realEdges },
  (_, i) =>
    new RealEdge({
      name: `chaos-${tag}-real-${i}`,
      index: i,
      tag,
      subnet,
      dir: path.join(dir, `edge-${i}`),
      dataMiB: 32,
      pauseImage: PAUSE,
      dockerEndpoint: DOCKER,
      bin: bins.edgecore,
    }),
);
const cloud = new ChaosCloud(path.join(dir, 'cloud'), edges[0]?.net.hostIp ?? '127.0.0.1', bins);
let fleet: Fleet | undefined;
let api: Api | undefined;
let apiRetries = (): number => 0;

/** `keep`: leave the run directory (logs, the API server's data, each edge's data) for a look afterwards. */
async function teardown(keep = a.keep === true): Promise<void> {
  await fleet?.stop().catch(() => undefined);
  for (const e of edges) {
    const keepTo = keep ? path.join(dir, `${e.name}-data`) : undefined;
    await e.teardown(keepTo).catch((err) => console.error(`teardown ${e.name}: ${String(err)}`));
  }
  await cloud.stop().catch(() => undefined);
  api?.close();
  if (keep) console.log(`run directory kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.once('SIGINT', () => void teardown().then(() => process.exit(130)));

async function main(): Promise<CheckResult & { deleted: number }> {
  const docker = new DockerClient({ endpoint: DOCKER });
  await ensureBusyboxImage(docker, IMAGE, SHELL_CHANGES, () => {});
  await ensureBusyboxImage(docker, PAUSE, PAUSE_CHANGES, () => {});
  for (const e of edges) await e.prepare();
  await cloud.start();
  api = new Api(cloud.adminKubeconfig, 16);
  const client = new Client(api);
  apiRetries = () => client.retries;
  console.log(`cloud up: API 127.0.0.1:${cloud.apiPort}, CloudHub ${cloud.hostIp}:${cloud.wsPort}`);

  // Simulated edges: edgemark's fleet (real protocol, no containers); remember the last write each one acked.
  const simNames = Array.from({ length: profile.simEdges }, (_, i) => `chaos-${tag}-sim-${i}`);
  const simWrites = new Map<string, SimWrite>();
  fleet = new Fleet({
    workers: 1,
    server: `${cloud.hostIp}:${cloud.wsPort}`,
    httpServer: `https://${cloud.hostIp}:${cloud.httpsPort}`,
    token: cloud.token,
    projectId: PROJECT_ID,
    certDir: path.join(dir, 'sim'),
    heartbeatSec: 15,
    statusPeriodMs: 10_000,
    statusReportMs: 5 * 60_000,
    leaseDurationSec: 40,
    requestTimeoutMs: 30_000,
    redialMs: [1000, 3000],
  });
  fleet.onWrite((ev) => simWrites.set(`${ev.name}|${ev.resource}`, { op: ev.op, rv: ev.rv, uid: ev.uid }));
  await fleet.add(simNames, 0);
  for (const e of edges) {
    e.configure({ hostIp: cloud.hostIp, wsPort: cloud.wsPort, httpsPort: cloud.httpsPort, token: cloud.token });
    e.proc.start();
  }
  await waitNodesReady(client, [...edges.map((e) => e.name), ...simNames]);
  console.log(`edges up: ${edges.length} real, ${simNames.length} simulated`);

  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const cms = Array.from({ length: profile.configMaps }, (_, i) => `cm-${i}`);
  for (const cm of cms) await client.create(`/api/v1/namespaces/${NS}/configmaps`, configMapObject(cm, 0));
  const wrk = rng.fork('workload');
  const pods: PodPlan[] = [
    ...Array.from({ length: profile.realPods }, (_, i) => ({
      name: `real-${i}`,
      node: edges[i % edges.length]?.name ?? '',
      real: true,
      cm: wrk.pick(cms),
    })),
    ...Array.from({ length: profile.simPods }, (_, i) => ({ name: `sim-${i}`, node: simNames[i % simNames.length] ?? '', real: false, cm: wrk.pick(cms) })),
  ];

  // The faults, one stream per target and kind group, side by side.
  let done = false;
  const per = (total: number, parts: number, i: number) => Math.floor(total / parts) + (i < total % parts ? 1 : 0);
  const streams: Promise<void>[] = [];
  const cr = rng.fork('cloudcore');
  streams.push(
    runStream(
      cr,
      plan(cr, ['kill-cloudcore'], profile.perKind),
      profile.gapMs,
      async () => {
        await cloud.cloudcore.kill9();
        faults.add('kill-cloudcore', 'cloudcore');
        await sleep(cr.int(0, 800));
        cloud.cloudcore.start();
        await cloud.cloudcoreUp();
      },
      () => false,
    ),
  );
  const ar = rng.fork('apiserver');
  streams.push(
    runStream(
      ar,
      plan(ar, ['restart-apiserver'], profile.perKind),
      profile.gapMs,
      async (_k, r) => {
        const hard = r.next() < 0.5;
        if (hard) await cloud.apiserver.kill9();
        else await cloud.apiserver.stop();
        faults.add('restart-apiserver', 'apiserver', hard ? 'SIGKILL' : 'SIGTERM');
        await sleep(r.int(0, 1500));
        cloud.apiserver.start();
        await cloud.apiserverUp();
      },
      () => false,
    ),
  );
  for (const [i, e] of edges.entries()) {
    const n = (kind: FaultKind) => per(profile.perKind, edges.length, kind === 'kill-edgecore' || kind === 'cut-link' ? i : edges.length - 1 - i);
    const pr = rng.fork(`proc-${i}`);
    const procPlan = rng.shuffle([...plan(pr, ['kill-edgecore'], n('kill-edgecore')), ...plan(pr, ['corrupt-wal'], n('corrupt-wal'))]);
    streams.push(
      runStream(
        pr,
        procPlan,
        profile.gapMs,
        async (kind, r) => {
          await e.proc.kill9();
          if (kind === 'corrupt-wal') {
            // Only a WAL with something in it can be corrupted; an empty one waits for the next round.
            for (let tries = 0; ; tries++) {
              const bytes = e.corruptWal(r);
              if (bytes > 0) {
                faults.add('corrupt-wal', e.name, `${bytes} bytes`);
                break;
              }
              if (tries > 20) throw new Error(`${e.name}: the WAL stayed empty`);
              e.proc.start();
              await e.up();
              await sleep(1000);
              await e.proc.kill9();
            }
          } else {
            faults.add('kill-edgecore', e.name);
          }
          await sleep(r.int(0, 800));
          e.proc.start();
          await e.up();
        },
        () => false,
      ),
    );
    const nr = rng.fork(`net-${i}`);
    streams.push(
      runStream(
        nr,
        plan(nr, ['cut-link'], n('cut-link')),
        profile.gapMs,
        async (_k, r) => {
          await e.net.cut();
          const hold = r.int(...profile.cutMs);
          faults.add('cut-link', e.name, `${hold} ms`);
          await sleep(hold);
          await e.net.restore();
        },
        () => false,
      ),
    );
    const dr = rng.fork(`disk-${i}`);
    streams.push(
      runStream(
        dr,
        plan(dr, ['fill-disk'], n('fill-disk')),
        profile.gapMs,
        async (_k, r) => {
          const bytes = e.fillDisk();
          const hold = r.int(...profile.holdMs);
          faults.add('fill-disk', e.name, `${(bytes / 2 ** 20).toFixed(1)} MiB for ${hold} ms`);
          await sleep(hold);
          e.freeDisk();
        },
        () => false,
      ),
    );
  }
  const faultsDone = Promise.all(streams).finally(() => {
    done = true;
  });

  // The workload meanwhile: the rollout, ConfigMap updates all along, some deletions once pods exist.
  let cmVersion = 0;
  const updates = (async () => {
    while (!done) {
      const cm = wrk.pick(cms);
      await client.call('PUT', `/api/v1/namespaces/${NS}/configmaps/${cm}`, configMapObject(cm, ++cmVersion));
      await sleep(wrk.int(200, 1200));
    }
  })();
  for (const p of pods) {
    await client.create(`/api/v1/namespaces/${NS}/pods`, podObject(p, IMAGE));
    await sleep(wrk.int(50, 400));
  }
  console.log(`rollout: ${pods.length} pods created (${client.retries} API retries so far)`);
  const deleted = wrk.shuffle(pods).slice(0, Math.round(pods.length * profile.deleteShare));
  for (const p of deleted) {
    await client.call('DELETE', `/api/v1/namespaces/${NS}/pods/${p.name}`);
    await sleep(wrk.int(100, 600));
  }
  const kept = pods.filter((p) => !deleted.includes(p));
  await faultsDone;
  await updates;
  // Everything back: links up, disks freed, every daemon running.
  for (const e of edges) {
    await e.net.restore();
    e.freeDisk();
    e.proc.start();
  }
  cloud.apiserver.start();
  cloud.cloudcore.start();
  console.log(`faults done: ${FAULT_KINDS.map((k) => `${k} ${faults.count(k)}`).join(', ')}; waiting for the edges to settle`);

  const logs = [cloud.apiserver.logFile, cloud.cloudcore.logFile, ...edges.map((e) => e.proc.logFile)];
  const input = { client, pods: kept, deleted, realEdges: edges.map((e) => ({ name: e.name, dbPath: e.dbPath })), simWrites, logs };
  const deadline = Date.now() + profile.settleMs;
  let res = await check(input);
  while (!passes(res) && Date.now() < deadline) {
    await sleep(3000);
    res = await check(input);
  }
  return { ...res, deleted: deleted.length };
}

function passes(r: CheckResult): boolean {
  return r.lost.length + r.duplicated.length + r.notDeleted.length + r.staleObjects.length === 0;
}

async function waitNodesReady(client: Client, names: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await client.call<{ items: Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }> }>(
      'GET',
      '/api/v1/nodes',
    );
    const ready = new Set(
      (r.body.items ?? []).filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name),
    );
    const missing = names.filter((n) => !ready.has(n));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`nodes not Ready: ${missing.join(', ')}`);
    await sleep(1000);
  }
}

function show(label: string, xs: string[]): void {
  if (xs.length === 0) return;
  console.log(`${label} (${xs.length}):`);
  for (const x of xs.slice(0, 20)) console.log(`  ${x}`);
  if (xs.length > 20) console.log(`  ... ${xs.length - 20} more`);
}

let code = 0;
const started = Date.now();
try {
  const r = await main();
  const crashes = [cloud.apiserver, cloud.cloudcore, ...edges.map((e) => e.proc)].flatMap((p) => p.unexpectedExits);
  const total = faults.records.length;
  console.log(`faults injected: ${FAULT_KINDS.map((k) => `${k} ${faults.count(k)}`).join(', ')} (total ${total})`);
  console.log(`pods checked: ${r.podsChecked} (${r.deleted} more deleted during the run), API retries ${apiRetries()}`);
  show('lost', r.lost);
  show('duplicated', r.duplicated);
  show('deletions not done', r.notDeleted);
  show('stale or missing objects on edges', r.staleObjects);
  show('stack traces in daemon logs', r.stackTraces);
  show('daemon exits nobody caused', crashes);
  console.log(
    `result: ${r.lost.length} lost, ${r.duplicated.length} duplicated, ${r.notDeleted.length} deletions not done, ${r.staleObjects.length} stale objects, ` +
      `${r.stackTraces.length} stack traces, ${crashes.length} crashes (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  if (!passes(r) || r.stackTraces.length > 0 || crashes.length > 0) code = 1;
} catch (err) {
  console.error(`chaos: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  // A failed run keeps its directory: the logs and databases are what tell why.
  await teardown(a.keep === true || code !== 0);
}
process.exit(code);
