// One edgemark worker process: hosts many simulated edge nodes and talks to the fleet over the IPC channel.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { logger } from '../../src/core/log.ts';
import { addCounters, emptyCounters, type FleetNodeConfig, type FromWorker, type ToWorker, type WorkerEvent } from './protocol.ts';
import { SimNode, type SimConfig, type SimEvents } from './sim-node.ts';
import { DeviceReporter } from './devices.ts';

const log = logger('edgemark');
const nodes = new Map<string, SimNode>();
let cfg: SimConfig | undefined;
let buffered: WorkerEvent[] = [];
let mark = new Map<string, { writes: number; byOp: Record<string, number>; framesOut: number; bytesOut: number; framesIn: number; bytesIn: number }>();
const reporter = new DeviceReporter((name) => nodes.get(name));
const el = monitorEventLoopDelay({ resolution: 20 });
el.enable();

function send(m: FromWorker): void {
  process.send?.(m);
}

setInterval(() => {
  if (buffered.length === 0) return;
  send({ t: 'events', events: buffered });
  buffered = [];
}, 50).unref();

const events: SimEvents = {
  connected: (n, at, first) => buffered.push({ e: 'connected', name: n.name, at, first }),
  statusAccepted: (n, at) => buffered.push({ e: 'status', name: n.name, at }),
  cloudWrite: (n, op, resource, content, at) => buffered.push({ e: 'write', name: n.name, op, resource, at, ...objectIds(content) }),
};

/** resourceVersion and UID of a written object (content may be the object or its JSON text). */
function objectIds(content: unknown): { rv: string; uid: string } {
  let o = content;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      return { rv: '', uid: '' };
    }
  }
  const md = (o as { metadata?: { resourceVersion?: unknown; uid?: unknown } } | null)?.metadata;
  return { rv: typeof md?.resourceVersion === 'string' ? md.resourceVersion : '', uid: typeof md?.uid === 'string' ? md.uid : '' };
}

async function add(names: string[], firstIndex: number, ratePerSec: number, maxInflight: number): Promise<void> {
  const c = cfg;
  if (c === undefined) throw new Error('add before config');
  let inflight = 0;
  let waiters: Array<() => void> = [];
  const gap = ratePerSec > 0 ? 1000 / ratePerSec : 0;
  const started = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (gap > 0) {
      const due = started + i * gap - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
    while (inflight >= maxInflight) await new Promise<void>((r) => waiters.push(r));
    inflight++;
    const node = new SimNode(name, firstIndex + i, c, events);
    nodes.set(name, node);
    all.push(
      (async () => {
        try {
          await node.enrol();
          buffered.push({ e: 'enrolled', name, ms: node.enrolMs, ok: true, at: Date.now() });
          await node.connect();
        } catch (err) {
          buffered.push({ e: 'enrolled', name, ms: node.enrolMs, ok: false, at: Date.now(), err: String(err).slice(0, 300) });
        } finally {
          inflight--;
          const w = waiters;
          waiters = [];
          for (const f of w) f();
        }
      })(),
    );
  }
  await Promise.all(all);
}

function stats() {
  const totals = emptyCounters();
  let connected = 0;
  const since = { writes: 0, byOp: {} as Record<string, number>, nodesWithWrites: 0, framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0 };
  for (const n of nodes.values()) {
    addCounters(totals, n.counters);
    if (n.connected) connected++;
    const m = mark.get(n.name) ?? { writes: 0, byOp: {}, framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0 };
    const w = n.counters.cloudWrites - m.writes;
    since.writes += w;
    if (w > 0) since.nodesWithWrites++;
    for (const [op, v] of Object.entries(n.counters.cloudWritesByOp)) since.byOp[op] = (since.byOp[op] ?? 0) + v - (m.byOp[op] ?? 0);
    since.framesOut += n.counters.framesOut - m.framesOut;
    since.bytesOut += n.counters.bytesOut - m.bytesOut;
    since.framesIn += n.counters.framesIn - m.framesIn;
    since.bytesIn += n.counters.bytesIn - m.bytesIn;
  }
  const cpu = process.cpuUsage();
  const s = {
    nodes: nodes.size,
    connected,
    totals,
    sinceMark: since,
    rssBytes: process.memoryUsage.rss(),
    cpuSec: (cpu.user + cpu.system) / 1e6,
    elMaxMs: el.max / 1e6,
    deviceReports: reporter.stats(),
  };
  el.reset();
  return s;
}

process.on('message', (raw: ToWorker) => {
  switch (raw.t) {
    case 'config': {
      const c: FleetNodeConfig = raw.cfg;
      cfg = { ...c, log };
      break;
    }
    case 'add':
      add(raw.names, raw.firstIndex, raw.ratePerSec, raw.maxInflight).then(
        () => {
          send({ t: 'events', events: buffered });
          buffered = [];
          send({ t: 'addDone', req: raw.req });
        },
        (err: unknown) => send({ t: 'fatal', err: String(err) }),
      );
      break;
    case 'stats':
      send({ t: 'stats', req: raw.req, stats: stats() });
      break;
    case 'mark':
      mark = new Map();
      for (const n of nodes.values()) {
        const c = n.counters;
        mark.set(n.name, {
          writes: c.cloudWrites,
          byOp: { ...c.cloudWritesByOp },
          framesOut: c.framesOut,
          bytesOut: c.bytesOut,
          framesIn: c.framesIn,
          bytesIn: c.bytesIn,
        });
      }
      break;
    case 'devices':
      reporter.start(raw.devices, raw.everyMs);
      break;
    case 'devicesMode':
      reporter.changing = raw.changing;
      break;
    case 'stop':
      reporter.stop();
      for (const n of nodes.values()) n.stop();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  // One node's bad input must not take the fleet down: count it and carry on.
  log.error({ err: String(err) }, 'uncaught exception in edgemark worker');
});
