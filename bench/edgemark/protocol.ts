import type { SimConfig, SimCounters } from './sim-node.ts';

/** Options every simulated node of a fleet shares (what crosses the IPC channel to a worker). */
export type FleetNodeConfig = Omit<SimConfig, 'log'>;

export type ToWorker =
  | { t: 'config'; cfg: FleetNodeConfig }
  | { t: 'add'; req: number; names: string[]; firstIndex: number; ratePerSec: number; maxInflight: number }
  | { t: 'stats'; req: number }
  | { t: 'mark' }
  | { t: 'stop' }
  /** Start device twin reports (DeviceTwin's `twin/edge_updated`), each device once per `everyMs`. */
  | { t: 'devices'; devices: Array<{ node: string; device: string }>; everyMs: number }
  /** `changing`: every report carries a new value; else the same value each time. */
  | { t: 'devicesMode'; changing: boolean };

export type WorkerEvent =
  | { e: 'enrolled'; name: string; ms: number; ok: boolean; at: number; err?: string }
  | { e: 'connected'; name: string; at: number; first: boolean }
  | { e: 'status'; name: string; at: number }
  /** `rv`/`uid`: the written object's resourceVersion and UID ('' when it carried none), for checks of what an edge holds. */
  | { e: 'write'; name: string; op: string; resource: string; at: number; rv: string; uid: string };

export type WorkerStats = {
  nodes: number;
  connected: number;
  totals: SimCounters;
  /** Cloud writes received since the last mark, by operation, and how many nodes got any. */
  sinceMark: { writes: number; byOp: Record<string, number>; nodesWithWrites: number; framesOut: number; bytesOut: number; framesIn: number; bytesIn: number };
  rssBytes: number;
  cpuSec: number;
  elMaxMs: number;
  /** Device twin reports sent, and those not sent because the node's link was down. */
  deviceReports?: { sent: number; skipped: number };
};

export type FromWorker =
  | { t: 'events'; events: WorkerEvent[] }
  | { t: 'addDone'; req: number }
  | { t: 'stats'; req: number; stats: WorkerStats }
  | { t: 'fatal'; err: string };

export function emptyCounters(): SimCounters {
  return {
    framesOut: 0,
    bytesOut: 0,
    framesIn: 0,
    bytesIn: 0,
    keepalives: 0,
    connects: 0,
    dialFailures: 0,
    disconnects: 0,
    requestTimeouts: 0,
    errorReplies: 0,
    rejectedFrames: 0,
    cloudWrites: 0,
    cloudWritesByOp: {},
    podPatches: 0,
    nodePatches: 0,
    leaseRenewals: 0,
  };
}

export function addCounters(into: SimCounters, c: SimCounters): void {
  for (const k of Object.keys(c) as Array<keyof SimCounters>) {
    if (k === 'cloudWritesByOp') {
      for (const [op, n] of Object.entries(c.cloudWritesByOp)) into.cloudWritesByOp[op] = (into.cloudWritesByOp[op] ?? 0) + n;
    } else {
      into[k] += c[k];
    }
  }
}
