import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { addCounters, emptyCounters, type FleetNodeConfig, type FromWorker, type ToWorker, type WorkerEvent, type WorkerStats } from './protocol.ts';

export type NodeRecord = {
  name: string;
  enrolMs?: number;
  enrolledAt?: number;
  enrolError?: string;
  firstConnectAt?: number;
  lastConnectAt?: number;
  statusAt?: number;
};

export type FleetStats = WorkerStats & { workers: number; workerRssBytes: number[]; workerCpuSec: number[] };

export type FleetOptions = FleetNodeConfig & { workers: number; logLevel?: string };

/**
 * An edgemark fleet: simulated edge nodes spread round-robin over `workers` child processes. Nodes are added in
 * batches (N grows); the fleet keeps what each node reported (enrolment, connects, status accepted) and hands
 * cloud writes to whoever listens.
 */
export class Fleet {
  readonly nodes = new Map<string, NodeRecord>();
  readonly #workers: ChildProcess[] = [];
  readonly #waiting = new Map<number, (v: unknown) => void>();
  #req = 0;
  #next = 0;
  readonly #workerOf = new Map<string, number>();
  #writeListeners: Array<(ev: Extract<WorkerEvent, { e: 'write' }>) => void> = [];
  fatal: string[] = [];

  constructor(o: FleetOptions) {
    const { workers, logLevel, ...cfg } = o;
    for (let i = 0; i < workers; i++) {
      const w = fork(path.join(import.meta.dirname, 'worker.ts'), [], {
        env: { ...process.env, LOG_LEVEL: logLevel ?? 'silent' },
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      w.on('message', (m: FromWorker) => this.#onMessage(m));
      w.send({ t: 'config', cfg } satisfies ToWorker);
      this.#workers.push(w);
    }
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.pid ?? -1);
  }

  onWrite(f: (ev: Extract<WorkerEvent, { e: 'write' }>) => void): () => void {
    this.#writeListeners.push(f);
    return () => {
      this.#writeListeners = this.#writeListeners.filter((x) => x !== f);
    };
  }

  #onMessage(m: FromWorker): void {
    if (m.t === 'events') {
      for (const ev of m.events) this.#onEvent(ev);
    } else if (m.t === 'addDone' || m.t === 'stats') {
      const f = this.#waiting.get(m.req);
      this.#waiting.delete(m.req);
      f?.(m.t === 'stats' ? m.stats : undefined);
    } else if (m.t === 'fatal') {
      this.fatal.push(m.err);
    }
  }

  #onEvent(ev: WorkerEvent): void {
    const rec = this.nodes.get(ev.name) ?? { name: ev.name };
    this.nodes.set(ev.name, rec);
    if (ev.e === 'enrolled') {
      rec.enrolMs = ev.ms;
      rec.enrolledAt = ev.at;
      if (!ev.ok) rec.enrolError = ev.err ?? 'failed';
    } else if (ev.e === 'connected') {
      rec.firstConnectAt ??= ev.at;
      rec.lastConnectAt = ev.at;
    } else if (ev.e === 'status') {
      rec.statusAt = ev.at;
    } else {
      for (const f of this.#writeListeners) f(ev);
    }
  }

  #ask<T>(w: ChildProcess, msg: (req: number) => ToWorker): Promise<T> {
    const req = ++this.#req;
    return new Promise((resolve) => {
      this.#waiting.set(req, resolve as (v: unknown) => void);
      w.send(msg(req));
    });
  }

  /** Enrols and connects `names`, `ratePerSec` in total (0 = as fast as `maxInflight` per worker allows). */
  async add(names: string[], ratePerSec: number, maxInflight = 64): Promise<void> {
    const per: string[][] = this.#workers.map(() => []);
    const first: number[] = this.#workers.map(() => -1);
    for (const n of names) {
      const wi = this.#next++ % this.#workers.length;
      this.#workerOf.set(n, wi);
      if (first[wi] === -1) first[wi] = this.#next - 1;
      (per[wi] as string[]).push(n);
      this.nodes.set(n, { name: n });
    }
    const rate = ratePerSec > 0 ? ratePerSec / this.#workers.length : 0;
    await Promise.all(
      this.#workers.map((w, i) =>
        (per[i] as string[]).length === 0
          ? Promise.resolve()
          : this.#ask(w, (req) => ({ t: 'add', req, names: per[i] as string[], firstIndex: first[i] as number, ratePerSec: rate, maxInflight })),
      ),
    );
    // Let the last batch of events arrive.
    await new Promise((r) => setTimeout(r, 120));
  }

  async stats(): Promise<FleetStats> {
    const all = await Promise.all(this.#workers.map((w) => this.#ask<WorkerStats>(w, (req) => ({ t: 'stats', req }))));
    const totals = emptyCounters();
    const since = { writes: 0, byOp: {} as Record<string, number>, nodesWithWrites: 0, framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0 };
    let nodes = 0;
    let connected = 0;
    for (const s of all) {
      addCounters(totals, s.totals);
      nodes += s.nodes;
      connected += s.connected;
      since.writes += s.sinceMark.writes;
      since.nodesWithWrites += s.sinceMark.nodesWithWrites;
      for (const [op, n] of Object.entries(s.sinceMark.byOp)) since.byOp[op] = (since.byOp[op] ?? 0) + n;
      since.framesOut += s.sinceMark.framesOut;
      since.bytesOut += s.sinceMark.bytesOut;
      since.framesIn += s.sinceMark.framesIn;
      since.bytesIn += s.sinceMark.bytesIn;
    }
    return {
      nodes,
      connected,
      totals,
      sinceMark: since,
      rssBytes: all.reduce((a, s) => a + s.rssBytes, 0),
      cpuSec: all.reduce((a, s) => a + s.cpuSec, 0),
      elMaxMs: Math.max(0, ...all.map((s) => s.elMaxMs)),
      deviceReports: {
        sent: all.reduce((a, s) => a + (s.deviceReports?.sent ?? 0), 0),
        skipped: all.reduce((a, s) => a + (s.deviceReports?.skipped ?? 0), 0),
      },
      workers: all.length,
      workerRssBytes: all.map((s) => s.rssBytes),
      workerCpuSec: all.map((s) => s.cpuSec),
    };
  }

  /** Starts device twin reports: each device on its node once per `everyMs` (nodes must be in this fleet). */
  startDevices(devices: Array<{ node: string; device: string }>, everyMs: number): void {
    const per: Array<Array<{ node: string; device: string }>> = this.#workers.map(() => []);
    for (const d of devices) per[this.#workerOf.get(d.node) ?? 0]?.push(d);
    for (const [wi, w] of this.#workers.entries()) w.send({ t: 'devices', devices: per[wi] ?? [], everyMs } satisfies ToWorker);
  }

  /** Device reports from now on carry a new value each time (`true`) or repeat the last one (`false`). */
  setDevicesChanging(changing: boolean): void {
    for (const w of this.#workers) w.send({ t: 'devicesMode', changing } satisfies ToWorker);
  }

  /** Starts the "since mark" counters afresh (cloud writes and bytes per node). */
  mark(): void {
    for (const w of this.#workers) w.send({ t: 'mark' } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve();
            const t = setTimeout(() => w.kill('SIGKILL'), 5000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            w.send({ t: 'stop' } satisfies ToWorker);
          }),
      ),
    );
  }
}
