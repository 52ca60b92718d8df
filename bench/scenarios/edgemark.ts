import { readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { openFilesLimit } from '../lib/machine.ts';
import { sleep, waitUntil } from '../lib/pool.ts';
import { measureUsage, type Usage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';
import type { Session } from './session.ts';

export type EdgemarkOptions = { steps: number[]; rampPerSec: number; idleWindowMs: number; baselineWindowMs: number; readyTimeoutMs: (n: number) => number };

/** Per-frame bytes the payload figure leaves out: WebSocket client header (2-4) + mask (4), TLS 1.3 record (5 + 16 tag + 1). */
const WS_TLS_OVERHEAD = 8 + 22;

export type StepFigures = {
  n: number;
  added: number;
  enrolled: number;
  enrolFailed: number;
  enrolMs: ReturnType<typeof summarize>;
  enrolPerSec: number;
  connectPerSec: number;
  allReadyMs: number;
  ready: number;
  usage?: Usage;
  apiLatency: ReturnType<typeof summarize>;
  apiFailed: number;
  idleUpBytesPerNodeSec: number;
  idleUpWireBytesPerNodeSec: number;
  idleUpFramesPerNodeSec: number;
  fleetErrors: Record<string, number>;
  workerRssMiB: number;
  workerCpuPercent: number;
};

export const nodeName = (i: number) => `edgemark-${i}`;

/** Why a step failed to hold all nodes, from what cloudcore looked like at the time. */
export function diagnose(s: StepFigures, cloudAlive: boolean, cloudLogTail = ''): string {
  if (!cloudAlive) {
    return /heap out of memory|Allocation failed/.test(cloudLogTail)
      ? "memory: cloudcore ran out of V8 heap (Node's default limit) and exited"
      : 'cloudcore exited (see cloudcore.log)';
  }
  const why: string[] = [];
  const u = s.usage;
  const fdLimit = Number(openFilesLimit().soft);
  if (u !== undefined && u.rssMiB > (os.totalmem() / 2 ** 20) * 0.8) why.push(`memory (RSS ${fmt(u.rssMiB)} MiB)`);
  if (u !== undefined && u.cpuPercent >= 90) why.push(`CPU (${fmt(u.cpuPercent)} % of a core; Node runs JS on one)`);
  if (u !== undefined && Number.isFinite(fdLimit) && u.fds > fdLimit * 0.9) why.push(`file descriptors (${u.fds} of ${fdLimit})`);
  if (s.apiLatency.p99 > 1000 || s.apiFailed > 0) why.push(`event loop lag (API GET p99 ${fmt(s.apiLatency.p99)} ms, ${s.apiFailed} probes failed)`);
  if (s.enrolFailed > 0) why.push(`enrolment (${s.enrolFailed} failed)`);
  return why.length > 0 ? why.join('; ') : 'nothing saturated visibly (see cloudcore.log)';
}

/**
 * Grows the fleet step by step; at each N: enrolment and connect rate, time until all N are Ready in the API, then
 * an idle window with cloudcore's RSS/CPU/fds, API latency (lag) and the fleet's upstream bytes.
 */
export async function edgemarkBench(s: Session, o: EdgemarkOptions, out: BenchOutcome): Promise<{ held: number }> {
  out.params = {
    steps: o.steps,
    rampPerSec: o.rampPerSec || 'unlimited (64 dials in flight per worker)',
    idleWindowMs: o.idleWindowMs,
    workers: s.fleet.pids.length,
    enrolment: s.sharedCerts ? 'shared certificate' : 'per node (token + CSR)',
    nodeStatus:
      s.statusReportMs > 0
        ? `nodepatch on reconnect / failed lease / every ${s.statusReportMs / 1000} s (KubeEdge 1.15)`
        : 'nodepatch every 10 s (--status-every-tick)',
    leaseRenewSec: '10 (+0-4 % jitter)',
    heartbeatSec: 15,
  };
  const steps: StepFigures[] = [];
  let held = 0;
  let have = 0;
  let breakReason: string | undefined;
  const errTotals: Record<string, number> = {};
  // cloudcore with no edge at all: the base the per-node growth is measured from.
  const base = await measureUsage(s.cloud.daemon.pid, o.baselineWindowMs);
  out.rows.push({
    metric: 'N=0: cloudcore RSS / CPU idle',
    value: base ? `${fmt(base.rssMiB)} MiB / ${fmt(base.cpuPercent)} %` : 'n/a',
    note: base ? `no edges; % of one core over ${fmt(base.windowSec)} s; ${base.fds} fds` : 'cloudcore gone',
  });
  for (const n of o.steps) {
    const names = Array.from({ length: n - have }, (_, i) => nodeName(have + i));
    const all = Array.from({ length: n }, (_, i) => nodeName(i));
    const t0 = Date.now();
    await s.fleet.add(names, o.rampPerSec);
    const cloudDead = () => s.cloud.daemon.proc.exitCode !== null || s.cloud.daemon.proc.signalCode !== null;
    // A cloudcore that died will not make anyone Ready: stop waiting at once and say why.
    await waitUntil(() => s.watch.countReady(all) === n || cloudDead(), o.readyTimeoutMs(n), 200);
    const readyOk = s.watch.countReady(all) === n;
    const readyAtMax = Math.max(...names.map((x) => s.watch.firstReadyAt.get(x) ?? Number.NaN));
    have = n;
    const recs = names.map((x) => s.fleet.nodes.get(x));
    const enrolled = recs.filter((r) => r?.enrolledAt !== undefined && r.enrolError === undefined);
    const lastEnrol = Math.max(...enrolled.map((r) => r?.enrolledAt ?? 0));
    const connected = recs.filter((r) => r?.firstConnectAt !== undefined);
    const lastConnect = Math.max(...connected.map((r) => r?.firstConnectAt ?? 0));
    // Idle: nothing but keepalives, status patches and lease renewals.
    await sleep(1000);
    s.fleet.mark();
    const wStart = Date.now();
    const before = await s.fleet.stats();
    const usage = await measureUsage(s.cloud.daemon.pid, o.idleWindowMs);
    const st = await s.fleet.stats();
    const wEnd = Date.now();
    const secs = (wEnd - wStart) / 1000;
    const api = s.probe.between(wStart, wEnd);
    const fleetErrors = {
      enrolFailed: recs.length - enrolled.length,
      dialFailures: st.totals.dialFailures,
      disconnects: st.totals.disconnects,
      requestTimeouts: st.totals.requestTimeouts,
      errorReplies: st.totals.errorReplies,
      rejectedFrames: st.totals.rejectedFrames,
    };
    const f: StepFigures = {
      n,
      added: names.length,
      enrolled: enrolled.length,
      enrolFailed: recs.length - enrolled.length,
      enrolMs: summarize(enrolled.map((r) => r?.enrolMs ?? Number.NaN)),
      enrolPerSec: s.sharedCerts ? Number.NaN : rate(enrolled.length, lastEnrol - t0),
      connectPerSec: rate(connected.length, lastConnect - t0),
      allReadyMs: readyOk ? readyAtMax - t0 : Number.NaN,
      ready: s.watch.countReady(all),
      ...(usage !== undefined ? { usage } : {}),
      apiLatency: summarize(api.ms),
      apiFailed: api.failed,
      idleUpBytesPerNodeSec: st.sinceMark.bytesOut / n / secs,
      idleUpWireBytesPerNodeSec: (st.sinceMark.bytesOut + st.sinceMark.framesOut * WS_TLS_OVERHEAD) / n / secs,
      idleUpFramesPerNodeSec: st.sinceMark.framesOut / n / secs,
      fleetErrors,
      workerRssMiB: st.rssBytes / 2 ** 20,
      workerCpuPercent: ((st.cpuSec - before.cpuSec) / secs) * 100,
    };
    steps.push(f);
    for (const [k, v] of Object.entries(fleetErrors)) errTotals[`${k}@${n}`] = v; // fleet counters are cumulative
    errTotals[`apiProbeFailed@${n}`] = api.failed;
    const errs = Object.values(fleetErrors).reduce((a, b) => a + b, 0) + api.failed;
    const q =
      errs > 0
        ? ` [${errs} errors in this step: ${Object.entries(fleetErrors)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}${api.failed ? ` apiProbeFailed=${api.failed}` : ''}]`
        : '';
    const alive = s.cloud.daemon.proc.exitCode === null && s.cloud.daemon.proc.signalCode === null;
    out.rows.push(
      {
        metric: `N=${n}: all Ready after`,
        value: readyOk ? `${fmt(f.allReadyMs / 1000, 2)} s` : `NOT within ${fmt(o.readyTimeoutMs(n) / 1000)} s`,
        note: `from first dial of the ${names.length} new nodes; ${f.ready}/${n} Ready after the idle window${q}`,
      },
      {
        metric: `N=${n}: enrolment (CSR)`,
        value: s.sharedCerts ? 'shared cert' : `${fmt(f.enrolPerSec)} /s`,
        note: s.sharedCerts
          ? '--shared-cert'
          : `${f.enrolled} enrolled, p50 ${fmt(f.enrolMs.p50)} ms p99 ${fmt(f.enrolMs.p99)} ms each, ${f.enrolFailed} failed`,
      },
      { metric: `N=${n}: connect rate`, value: `${fmt(f.connectPerSec)} /s`, note: `enrolment + TLS + WebSocket upgrade, ${connected.length} nodes` },
      {
        metric: `N=${n}: cloudcore RSS / CPU idle`,
        value: usage ? `${fmt(usage.rssMiB)} MiB / ${fmt(usage.cpuPercent)} %` : 'n/a',
        note: usage ? `% of one core over ${fmt(usage.windowSec)} s; ${usage.fds} fds` : 'cloudcore gone',
      },
      {
        metric: `N=${n}: API GET latency (lag)`,
        value: `${fmt(f.apiLatency.p50)} / ${fmt(f.apiLatency.p99)} ms`,
        note: `p50 / p99 of ${f.apiLatency.n} probes, indirect event-loop lag${api.failed ? `; ${api.failed} probes FAILED` : ''}`,
      },
      {
        metric: `N=${n}: idle upstream per node`,
        value: `${fmt(f.idleUpBytesPerNodeSec)} B/s`,
        note: `payload; ~${fmt(f.idleUpWireBytesPerNodeSec)} B/s with WS+TLS framing; ${fmt(f.idleUpFramesPerNodeSec, 2)} frames/s`,
      },
      {
        metric: `N=${n}: edgemark workers`,
        value: `${fmt(f.workerRssMiB)} MiB / ${fmt(f.workerCpuPercent)} %`,
        note: `RSS / CPU of ${s.fleet.pids.length} load-generator processes (same machine)`,
      },
    );
    if (!readyOk || !alive || f.ready < n) {
      const tail = alive ? '' : readFileSync(path.join(s.cloud.dir, 'cloudcore.log'), 'utf8').slice(-20_000);
      breakReason = `N=${n}: ${diagnose(f, alive, tail)}`;
      break;
    }
    held = n;
  }
  out.figures = { baseline: base ?? null, steps, largestHeld: held, breakReason: breakReason ?? null };
  out.errors = errTotals;
  // Headroom estimates from the largest step that held: linear in N, stated as estimates.
  const last = steps.filter((x) => x.n === held).pop();
  const first: { n: number; usage?: Usage } | undefined = base !== undefined ? { n: 0, usage: base } : steps[0];
  if (breakReason !== undefined) {
    out.rows.push({ metric: 'breaks at', value: `N=${steps[steps.length - 1]?.n}`, note: `largest N with all Ready: ${held}; gave out: ${breakReason}` });
  } else if (last?.usage !== undefined) {
    const cpuN = last.usage.cpuPercent > 0 ? Math.floor((held * 100) / last.usage.cpuPercent) : Number.NaN;
    let memNote = '';
    if (first?.usage !== undefined && first !== last && last.n > first.n) {
      const perNodeMiB = (last.usage.rssMiB - first.usage.rssMiB) / (last.n - first.n);
      memNote = `; RSS grows ~${fmt(perNodeMiB * 1024)} KiB/node (N=${first.n} to ${last.n})`;
      (out.figures as Record<string, unknown>)['rssKiBPerNode'] = perNodeMiB * 1024;
    }
    (out.figures as Record<string, unknown>)['cpuBoundEstimateN'] = cpuN;
    out.rows.push({
      metric: 'breaks at',
      value: `not reached`,
      note: `all Ready up to N=${held}; idle CPU extrapolates to 100 % of a core near N~${fmt(cpuN)} (estimate)${memNote}`,
    });
  }
  return { held };
}
