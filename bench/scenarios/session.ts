import { sharedFleetCerts } from '../edgemark/shared-cert.ts';
import path from 'node:path';
import type { EdgeCerts } from '../../src/edge/edgehub/certificate/bootstrap.ts';
import { Fleet } from '../edgemark/fleet.ts';
import type { Api } from '../lib/api.ts';
import { startCloud, type Cloud } from '../lib/cloud.ts';
import { sleep } from '../lib/pool.ts';

/** Node readiness as the API server shows it, from a watch on /api/v1/nodes. */
export class NodeWatch {
  readonly ready = new Map<string, boolean>();
  readonly firstReadyAt = new Map<string, number>();
  /** Ready condition's lastHeartbeatTime (epoch ms), per node. */
  readonly heartbeat = new Map<string, number>();
  errors = 0;
  #w: { stop(): void };

  constructor(api: Api) {
    this.#w = api.watch(
      '/api/v1/nodes',
      (type, node, at) => {
        const name = String(node?.metadata?.name ?? '');
        if (type === 'DELETED') {
          this.ready.delete(name);
          return;
        }
        const c = (node?.status?.conditions ?? []).find((x: { type?: string }) => x.type === 'Ready');
        const ok = c?.status === 'True';
        this.ready.set(name, ok);
        if (c?.lastHeartbeatTime) this.heartbeat.set(name, Date.parse(c.lastHeartbeatTime));
        if (ok && !this.firstReadyAt.has(name)) this.firstReadyAt.set(name, at);
      },
      () => this.errors++,
    );
  }

  countReady(names: Iterable<string>): number {
    let n = 0;
    for (const x of names) if (this.ready.get(x) === true) n++;
    return n;
  }

  stop(): void {
    this.#w.stop();
  }
}

/**
 * Indirect event-loop lag of cloudcore: the API server runs on cloudcore's event loop, so the latency of a
 * trivial GET every 250 ms rises with the lag. Samples carry their start time so windows can be cut out.
 */
export class ApiProbe {
  readonly samples: Array<{ at: number; ms: number; ok: boolean }> = [];
  #stop = false;

  constructor(api: Api, everyMs = 250) {
    void (async () => {
      while (!this.#stop) {
        const at = Date.now();
        try {
          const r = await api.request('GET', '/api/v1/namespaces/default', undefined, undefined, 10_000);
          this.samples.push({ at, ms: r.ms, ok: r.status === 200 });
        } catch {
          this.samples.push({ at, ms: Number.NaN, ok: false });
        }
        await sleep(everyMs);
      }
    })();
  }

  between(from: number, to: number): { ms: number[]; failed: number } {
    const s = this.samples.filter((x) => x.at >= from && x.at <= to);
    return { ms: s.filter((x) => x.ok).map((x) => x.ms), failed: s.filter((x) => !x.ok).length };
  }

  stop(): void {
    this.#stop = true;
  }
}

export type SessionOptions = {
  workDir: string;
  nodeLimit: number;
  workers: number;
  sharedCert: boolean;
  /** nodepatch period for an unchanged status; 0 = every 10 s status tick (the pre-1.15-like load). */
  statusReportMs: number;
  /** Write cloudcore CPU profiles here (one per cloudcore process, at its exit). */
  cpuProfDir?: string;
  /** cloudcore's devicecontroller settings (unset: its defaults). */
  deviceController?: { workers: number; statusUpdateIntervalMs: number };
};

export type Session = { cloud: Cloud; fleet: Fleet; watch: NodeWatch; probe: ApiProbe; sharedCerts?: EdgeCerts; statusReportMs: number; stop(): Promise<void> };

export const PROJECT_ID = 'e632aba927ea4ac2b575ec1603d56f10';

/** cloudcore (ours, in a temp dir, free ports on 127.0.0.1) plus an edgemark fleet pointed at it. */
export async function startSession(o: SessionOptions): Promise<Session> {
  const cloud = await startCloud({
    dir: path.join(o.workDir, 'fleet'),
    nodeLimit: o.nodeLimit,
    ...(o.cpuProfDir !== undefined ? { cpuProfDir: o.cpuProfDir } : {}),
    ...(o.deviceController !== undefined ? { deviceController: o.deviceController } : {}),
  });
  let sharedCerts: EdgeCerts | undefined;
  if (o.sharedCert) sharedCerts = await sharedFleetCerts(cloud.api);
  const fleet = new Fleet({
    workers: o.workers,
    server: cloud.wsServer,
    httpServer: cloud.httpServer,
    token: cloud.token,
    projectId: PROJECT_ID,
    certDir: path.join(o.workDir, 'fleet', 'edges'),
    ...(sharedCerts !== undefined ? { sharedCerts } : {}),
    heartbeatSec: 15,
    statusPeriodMs: 10_000,
    statusReportMs: o.statusReportMs,
    leaseDurationSec: 40,
    requestTimeoutMs: 30_000,
    redialMs: [1000, 3000],
  });
  const watch = new NodeWatch(cloud.api);
  const probe = new ApiProbe(cloud.api);
  return {
    cloud,
    fleet,
    watch,
    probe,
    statusReportMs: o.statusReportMs,
    ...(sharedCerts !== undefined ? { sharedCerts } : {}),
    async stop() {
      probe.stop();
      watch.stop();
      await fleet.stop();
      await cloud.stop();
    },
  };
}
