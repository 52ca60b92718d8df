// `npm run bench` (quick profile) and `npm run bench -- --full`. Each benchmark writes bench/results/<name>.json;
// the table printed at the end carries the machine and the load average around every benchmark, and the goals table
// after it (bench/lib/goals.ts) sets issue 15's figures beside their goals. The daemons run from the bundles
// (dist/*.mjs, built once at the start), as the images and the npm package ship them; --from-sources runs src/cmd.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, imageNodeFlags, setBinSource } from './lib/cloud.ts';
import { goalsReport, printGoals, writeGoals } from './lib/goals.ts';
import { loadAverage, machine, machineLine } from './lib/machine.ts';
import { runBench, table, type BenchResult } from './lib/report.ts';
import { apiServerBench } from './scenarios/apiserver.ts';
import { clearPods, ensureDocker, ensureTestImages, footprintBench, measureIdle, podStartBench, startRealEdge, type DockerEnv } from './scenarios/docker.ts';
import { deploymentBench } from './scenarios/deployment.ts';
import { devicesBench } from './scenarios/devices.ts';
import { edgemarkBench } from './scenarios/edgemark.ts';
import { edgeStatsBench } from './scenarios/edge-stats.ts';
import { meshDnsBench } from './scenarios/edgemesh-dns.ts';
import { fanoutBench } from './scenarios/fanout.ts';
import { imagesBench } from './scenarios/images.ts';
import { meshBench } from './scenarios/mesh.ts';
import { reconnectBench } from './scenarios/reconnect.ts';
import { schedulerBench } from './scenarios/scheduler.ts';
import { startSession, type Session } from './scenarios/session.ts';
import { spdyStreamsBench } from './scenarios/spdy-streams.ts';
import { streamsBench } from './scenarios/streams.ts';

const ALL = [
  'apiserver',
  'edgemark',
  'fanout',
  'reconnect',
  'devices',
  'edgecore-footprint',
  'pod-start',
  'scheduler',
  'deployment',
  'edge-stats',
  'mesh',
  'streams',
  'edgemesh-dns',
  'spdy-streams',
  'images',
] as const;
/** The benchmarks that start cloudcore or edgecore (they need the bundles unless --from-sources). */
const STARTS_DAEMONS = new Set(['apiserver', 'scheduler', 'edgemark', 'fanout', 'reconnect', 'devices', 'deployment', 'edgecore-footprint', 'pod-start']);

const { values: a } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    n: { type: 'string' },
    workers: { type: 'string', default: String(Math.max(2, Math.min(4, os.availableParallelism()))) },
    ramp: { type: 'string', default: '0' },
    'shared-cert': { type: 'boolean', default: false },
    pods: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'status-every-tick': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'from-sources': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  process.stdout.write(`npm run bench [-- options]
  --full            the big profile (N up to 10000, 5000 pods fan-out, 100-pod edge ladder in steps of 5)
  --only a,b        run only these: ${ALL.join(', ')}
  --n 100,1000      edgemark steps (quick: 1000; full: 100,1000,5000,10000) (N grows through them; stops at the first that does not hold)
  --workers W       edgemark worker processes (default ${a.workers})
  --ramp R          edgemark dials per second in total (0 = unlimited, 64 in flight per worker)
  --shared-cert     one KubeEdge-style CN=kubeedge.io certificate for the whole fleet instead of one CSR per node
  --pods K          fan-out pods
  --keep            keep the temporary work directory (logs, data)
  --status-every-tick  simulated nodes send a nodepatch every 10 s (the old load) instead of as KubeEdge 1.15 does
                    (on change, after a reconnect or failed lease renewal, else every 5 min; the lease is the heartbeat)
  --cpu-prof DIR    write V8 CPU profiles of the edgemark cloudcore into DIR (one per process, at its exit;
                    add --from-sources for readable function names: the bundles are minified)
  --from-sources    run cloudcore/edgecore from src/cmd/*.ts instead of the bundles dist/*.mjs (no build step;
                    the goals table then marks the daemon rows not-run: its goals are for the bundles)
For a cloud that is not ours, run the fleet alone: node bench/edgemark/main.ts --help
`);
  process.exit(0);
}
const full = a.full;
const profile = full ? 'full' : 'quick';
const only = new Set(a.only ? a.only.split(',').map((x) => x.trim()) : ALL);
// Quick holds the issue's N=1000 only; the per-node RSS growth is then taken from a baseline with no edges.
const steps = a.n ? a.n.split(',').map(Number) : full ? [100, 1000, 5000, 10000] : [1000];
const P = {
  api: full ? { objects: 3000, concurrency: 8, lists: 200 } : { objects: 400, concurrency: 8, lists: 50 },
  idleWindowMs: full ? 30_000 : 6000,
  baselineWindowMs: full ? 10_000 : 3000,
  fanoutPods: Number(a.pods ?? (full ? 5000 : 1000)),
  footprint: full
    ? { maxPods: 100, step: 5, idleWindowMs: 10_000, stepWindowMs: 6000, podTimeoutMs: 120_000 }
    : { maxPods: 50, step: 10, idleWindowMs: 5000, stepWindowMs: 2000, podTimeoutMs: 60_000 },
  podStart: full ? 100 : 20,
  scheduler: full ? { nodes: 100, pods: 3000 } : { nodes: 50, pods: 500 },
  // The issue's must-show: edgecore idle in its container over 3 minutes, in both profiles.
  images: { edgeWindowMs: 180_000, cloudWindowMs: 30_000, settleMs: 5000 },
  devices: { nodes: 100, devices: 1000, reportEveryMs: 1000, statusUpdateIntervalMs: 1000, workers: 8, warmupMs: 3000, windowMs: full ? 30_000 : 10_000 },
};

const m = machine();
const workDir = mkdtempSync(path.join(os.tmpdir(), 'kubeedge-ts-bench-'));
const started = Date.now();
console.log(
  `kubeedge-ts bench, ${profile} profile; machine: ${machineLine(m)}; load average ${loadAverage()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(`work directory ${workDir}${a.keep ? ' (kept)' : ''}`);
setBinSource(a['from-sources'] ? 'sources' : 'bundles');
// One build per run: the bundles the daemons run from and the images are made of (started by path, never copied).
if ((!a['from-sources'] && [...only].some((x) => STARTS_DAEMONS.has(x))) || only.has('images')) {
  const t = Date.now();
  const b = spawnSync(process.execPath, ['scripts/build.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (b.status !== 0) {
    console.error(`npm run build failed (exit ${b.status}); --from-sources runs the daemons without it`);
    process.exit(1);
  }
  const flags = (['cloudcore', 'edgecore'] as const).map((x) => `${x} ${imageNodeFlags(x).join(' ') || '(none)'}`).join(', ');
  console.log(`built the bundles in ${((Date.now() - t) / 1000).toFixed(1)} s; daemons run from dist/*.mjs with their images' Node flags: ${flags}`);
} else if (a['from-sources']) {
  console.log('daemons run from the sources (src/cmd/*.ts, --from-sources)');
}
const results: BenchResult[] = [];
const say = (r: BenchResult) => {
  results.push(r);
  console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${r.name}: ${r.status}${r.failure ? ` - ${r.failure.split('\n')[0]}` : ''}`);
};

if (only.has('apiserver')) {
  say(await runBench('apiserver', 'Embedded API server: kubectl-like requests', profile, m, (out) => apiServerBench({ workDir, ...P.api }, out)));
}

if (only.has('mesh')) {
  const o = full ? { seconds: 10, concurrency: 32, dnsInFlight: 64 } : { seconds: 3, concurrency: 16, dnsInFlight: 32 };
  say(await runBench('mesh', 'EdgeMesh: HTTP through the Service proxy beside direct, and DNS from the store', profile, m, (out) => meshBench(o, out)));
}

if (only.has('streams')) {
  say(
    await runBench('streams', 'Streams: 20 log followers and control requests through one node tunnel', profile, m, (out) =>
      streamsBench({ followers: 20, windowMs: full ? 20_000 : 5000, controlEveryMs: 20 }, out),
    ),
  );
}

if (only.has('scheduler')) {
  const o = P.scheduler;
  say(
    await runBench('scheduler', `Embedded scheduler: ${o.pods} pods over ${o.nodes} nodes`, profile, m, (out) =>
      schedulerBench({ workDir, ...o, concurrency: 16, timeoutMs: 60_000 + o.pods * 50 }, out),
    ),
  );
}

const wantFleet = only.has('edgemark') || only.has('fanout') || only.has('reconnect');
if (wantFleet) {
  let session: Session | undefined;
  let held = 0;
  const maxN = Math.max(...steps);
  try {
    session = await startSession({
      workDir,
      nodeLimit: maxN + 100,
      workers: Number(a.workers),
      sharedCert: a['shared-cert'],
      statusReportMs: a['status-every-tick'] ? 0 : 5 * 60_000,
      ...(a['cpu-prof'] !== undefined ? { cpuProfDir: path.resolve(a['cpu-prof']) } : {}),
    });
    const s = session;
    say(
      await runBench('edgemark', `edgemark: simulated edge fleet against one cloudcore (N = ${steps.join(', ')})`, profile, m, async (out) => {
        ({ held } = await edgemarkBench(
          s,
          {
            steps,
            rampPerSec: Number(a.ramp),
            idleWindowMs: P.idleWindowMs,
            baselineWindowMs: P.baselineWindowMs,
            readyTimeoutMs: (n) => Math.max(120_000, n * 100),
          },
          out,
        ));
      }),
    );
    if (held === 0) held = steps[0] ?? 0;
    const n = held;
    if (only.has('fanout')) {
      say(
        await runBench('fanout', `Fan-out latency: ${P.fanoutPods} pods over ${n} simulated nodes`, profile, m, (out) =>
          fanoutBench(s, { pods: P.fanoutPods, nodes: n, concurrency: 16, timeoutMs: 60_000 + P.fanoutPods * 30, settleMs: 7000 }, out),
        ),
      );
    }
    if (only.has('reconnect')) {
      const pods = only.has('fanout') ? P.fanoutPods : 0;
      say(
        await runBench('reconnect', `Reconnect storm: cloudcore restart with ${n} nodes attached`, profile, m, (out) =>
          reconnectBench(s, { nodes: n, podsOnNodes: pods, timeoutMs: 120_000 + n * 20, settleMs: 7000 }, out),
        ),
      );
    }
  } finally {
    await session?.stop().catch(() => undefined);
  }
}

if (only.has('devices')) {
  // A cloudcore of its own: the fleet bench's nodes and pods would share its event loop.
  let session: Session | undefined;
  const d = P.devices;
  try {
    session = await startSession({
      workDir: path.join(workDir, 'devices'),
      nodeLimit: d.nodes + 100,
      workers: Number(a.workers),
      sharedCert: a['shared-cert'],
      statusReportMs: 5 * 60_000,
      deviceController: { workers: d.workers, statusUpdateIntervalMs: d.statusUpdateIntervalMs },
    });
    const s = session;
    say(
      await runBench('devices', `Devices: ${d.devices} devices over ${d.nodes} simulated edges, a twin report per device per second`, profile, m, (out) =>
        devicesBench(s, { ...d, timeoutMs: 120_000 }, out),
      ),
    );
  } finally {
    await session?.stop().catch(() => undefined);
  }
}

if (only.has('spdy-streams')) {
  const o = { streams: 20, bytesPerStream: (full ? 50 : 10) * 1_000_000, pingEveryMs: 10 };
  say(
    await runBench('spdy-streams', `SPDY/3.1 (kubelet API hop): ${o.streams} log streams on one session, echo latency during it`, profile, m, (out) =>
      spdyStreamsBench(o, out),
    ),
  );
}

if (only.has('edgemesh-dns')) {
  const o = { services: 1000, clients: 4, inFlight: 16, warmupMs: 1000, windowMs: full ? 20_000 : 5000 };
  say(await runBench('edgemesh-dns', 'EdgeMesh DNS: Service names answered from the edge store (UDP, loopback)', profile, m, (out) => meshDnsBench(o, out)));
}

if (only.has('deployment')) {
  let session: Session | undefined;
  try {
    session = await startSession({ workDir: path.join(workDir, 'deployment'), nodeLimit: 100, workers: 1, sharedCert: false, statusReportMs: 5 * 60_000 });
    const s = session;
    say(
      await runBench('deployment', 'Deployment of 100 replicas over 10 simulated edge nodes: create and rolling update', profile, m, (out) =>
        deploymentBench(s, { replicas: 100, nodes: 10, timeoutMs: 180_000 }, out),
      ),
    );
  } finally {
    await session?.stop().catch(() => undefined);
  }
}

if (only.has('edge-stats')) {
  const o = { containers: full ? 100 : 20, rounds: full ? 10 : 5, rootDirectory: workDir };
  say(
    await runBench('edge-stats', `Edge usage sampling on Docker: one round with 0 and ${o.containers} containers`, profile, m, async (out) => {
      await ensureDocker();
      await ensureTestImages();
      await edgeStatsBench(o, out);
    }),
  );
}

if (only.has('edgecore-footprint') || only.has('pod-start')) {
  let env: DockerEnv | undefined;
  let dockerState = '';
  const startFailure = async (): Promise<DockerEnv> => {
    dockerState = await ensureDocker();
    await ensureTestImages();
    env = await startRealEdge(workDir);
    return env;
  };
  let startErr: unknown;
  const envP = startFailure().catch((err: unknown) => {
    startErr = err;
    return undefined;
  });
  try {
    // Pod start first, on the fresh edge; the footprint ladder after the pods are gone again (API and Docker).
    const idleP = envP.then((e) => (e === undefined ? undefined : measureIdle(e, P.footprint.idleWindowMs)));
    if (only.has('pod-start')) {
      say(
        await runBench('pod-start', `Pod start latency on one real edge (${P.podStart} pods)`, profile, m, async (out) => {
          const e = await envP;
          if (e === undefined) throw startErr;
          await idleP;
          out.notes?.push(`docker engine ${dockerState}`);
          await podStartBench(e, { pods: P.podStart, timeoutMs: 60_000 + P.podStart * 2000 }, out);
        }),
      );
    }
    if (only.has('edgecore-footprint')) {
      say(
        await runBench('edgecore-footprint', `edgecore footprint on Docker: 0..${P.footprint.maxPods} pods`, profile, m, async (out) => {
          const e = await envP;
          if (e === undefined) throw startErr;
          await idleP;
          if (!(await clearPods(e, 120_000))) out.notes?.push('pods of the pod-start run were not all gone within 120 s');
          await footprintBench(e, P.footprint, out);
        }),
      );
    }
  } finally {
    const e = await envP;
    if (e !== undefined) {
      await clearPods(e, 60_000).catch(() => false);
      await e.stop().catch(() => undefined);
    }
  }
}

if (only.has('images')) {
  const o = P.images;
  say(
    await runBench(
      'images',
      `cloudcore and edgecore in their images, idle (edgecore ${o.edgeWindowMs / 1000} s, cloudcore ${o.cloudWindowMs / 1000} s)`,
      profile,
      m,
      (out) => imagesBench({ workDir, ...o }, out),
    ),
  );
}

console.log(`\nkubeedge-ts bench results (${profile}), machine: ${machineLine(m)}`);
console.log(table(results));
const goals = goalsReport(results, profile, m);
console.log(printGoals(goals));
writeGoals(goals);
console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s; JSON in bench/results/<name>.json, goals in bench/results/goals.json`);
if (!a.keep) rmSync(workDir, { recursive: true, force: true });
process.exit(results.every((r) => r.status === 'ok') ? 0 : 1);
