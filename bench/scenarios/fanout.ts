import { nowMs } from '../lib/api.ts';
import { pool, sleep, waitUntil } from '../lib/pool.ts';
import { measureUsage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';
import { nodeName } from './edgemark.ts';
import type { Session } from './session.ts';

export const FANOUT_NS = 'bench-fanout';

export type FanoutOptions = {
  pods: number;
  nodes: number;
  concurrency: number;
  timeoutMs: number;
  /** After the last pod is Running, how long to keep counting what the cloud sends (past the 5 s sync period and retry). */
  settleMs: number;
};

/**
 * K pods created through the API, bound round-robin to the N simulated nodes. Latency from the create request to
 * the edge receiving the insert (timestamped in the edgemark worker on arrival) and to the API showing the pod
 * Running (timestamped on arrival of the watch event). Then, `settleMs` later, what the cloud sent per pod: every
 * pod write a node received (each one also costs an ack up and an ObjectSync write), against the pod changes the
 * API server made (the create, then the edge's own status report).
 */
export async function fanoutBench(s: Session, o: FanoutOptions, out: BenchOutcome): Promise<void> {
  out.params = {
    pods: o.pods,
    nodes: o.nodes,
    createConcurrency: o.concurrency,
    image: 'busybox (not run: edgemark reports Running)',
  };
  const api = s.cloud.api;
  await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: FANOUT_NS } });
  const sentAt = new Map<string, number>();
  const edgeAt = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const errors: Record<string, number> = { create: 0, network: 0, notAtEdge: 0, notRunning: 0, duplicateInserts: 0 };
  const podWrites: Record<string, number> = { insert: 0, update: 0, delete: 0 };
  let apiChanges = 0;
  let objectSyncWrites = 0;
  const offWrite = s.fleet.onWrite((ev) => {
    if (!ev.resource.startsWith(`${FANOUT_NS}/pod/`)) return;
    podWrites[ev.op] = (podWrites[ev.op] ?? 0) + 1;
    if (ev.op !== 'insert') return;
    const name = ev.resource.slice(`${FANOUT_NS}/pod/`.length);
    if (edgeAt.has(name)) errors['duplicateInserts'] = (errors['duplicateInserts'] ?? 0) + 1;
    else edgeAt.set(name, ev.at);
  });
  const w = api.watch(`/api/v1/namespaces/${FANOUT_NS}/pods`, (type, pod, at) => {
    if (type === 'ADDED' || type === 'MODIFIED') apiChanges++;
    if (type !== 'DELETED' && pod?.status?.phase === 'Running' && !runningAt.has(pod.metadata.name)) runningAt.set(pod.metadata.name, at);
  });
  // What the reliable queue writes per ack: one ObjectSync event per create/patch (apiserver watch).
  const ws = api.watch(`/apis/reliablesyncs.kubeedge.io/v1alpha1/namespaces/${FANOUT_NS}/objectsyncs`, (type) => {
    if (type === 'ADDED' || type === 'MODIFIED') objectSyncWrites++;
  });
  try {
    const usageP = measureUsage(s.cloud.daemon.pid, 5000);
    const t0 = nowMs();
    await pool(o.pods, o.concurrency, async (i) => {
      const name = `fan-${i}`;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: FANOUT_NS, labels: { bench: 'fanout' } },
        spec: {
          nodeName: nodeName(i % o.nodes),
          containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
          tolerations: [{ operator: 'Exists' }],
        },
      };
      sentAt.set(name, nowMs());
      try {
        const r = await api.request('POST', `/api/v1/namespaces/${FANOUT_NS}/pods`, pod);
        if (r.status !== 201) {
          errors['create'] = (errors['create'] ?? 0) + 1;
          sentAt.delete(name);
        }
      } catch {
        errors['network'] = (errors['network'] ?? 0) + 1;
        sentAt.delete(name);
      }
    });
    const createdIn = nowMs() - t0;
    await waitUntil(() => runningAt.size >= sentAt.size && edgeAt.size >= sentAt.size, o.timeoutMs, 200);
    const usage = await usageP;
    const toEdge: number[] = [];
    const toRunning: number[] = [];
    for (const [name, t] of sentAt) {
      const e = edgeAt.get(name);
      const r = runningAt.get(name);
      if (e === undefined) errors['notAtEdge'] = (errors['notAtEdge'] ?? 0) + 1;
      else toEdge.push(e - t);
      if (r === undefined) errors['notRunning'] = (errors['notRunning'] ?? 0) + 1;
      else toRunning.push(r - t);
    }
    const lastRunning = Math.max(...runningAt.values());
    // Keep counting: a status-only change would come back as an update at once (echo), or from a sync pass (5 s).
    await sleep(o.settleMs);
    const writes = { ...podWrites };
    const syncWrites = objectSyncWrites;
    const perPod = (writes['insert'] ?? 0) + (writes['update'] ?? 0) + (writes['delete'] ?? 0);
    const edge = summarize(toEdge);
    const run = summarize(toRunning);
    const errCount = Object.values(errors).reduce((a, b) => a + b, 0);
    const q = errCount > 0 ? ` (over ${run.n} of ${o.pods}; ${errCount} errors)` : '';
    out.errors = errors;
    out.figures = {
      createToEdgeMs: edge,
      createToRunningMs: run,
      createRatePerSec: rate(sentAt.size, createdIn),
      podsPerSec: rate(runningAt.size, lastRunning - t0),
      cloudcoreDuringCreate: usage,
      podWritesToEdges: writes,
      podWritesPerPod: o.pods > 0 ? perPod / o.pods : 0,
      podChangesInApi: apiChanges,
      objectSyncWrites: syncWrites,
    };
    out.rows.push(
      {
        metric: `create -> edge ack p50/p90/p99`,
        value: `${fmt(edge.p50)} / ${fmt(edge.p90)} / ${fmt(edge.p99)} ms`,
        note: `${edge.n} pods on ${o.nodes} nodes; insert received at the edge${q}`,
      },
      { metric: `create -> Running p50/p90/p99`, value: `${fmt(run.p50)} / ${fmt(run.p90)} / ${fmt(run.p99)} ms`, note: `watch event in the API${q}` },
      {
        metric: 'throughput',
        value: `${fmt(rate(runningAt.size, lastRunning - t0))} pods/s`,
        note: `first create to last Running; creates issued at ${fmt(rate(sentAt.size, createdIn))}/s, concurrency ${o.concurrency}`,
      },
      {
        metric: 'cloudcore during the burst',
        value: usage ? `${fmt(usage.cpuPercent)} % / ${fmt(usage.rssPeakMiB)} MiB` : 'n/a',
        note: 'CPU % of one core / peak RSS, first 5 s',
      },
      {
        metric: 'pod frames cloud -> edge per pod',
        value: `${fmt(o.pods > 0 ? perPod / o.pods : 0)} (${writes['insert'] ?? 0} insert, ${writes['update'] ?? 0} update)`,
        note: `counted until ${fmt(o.settleMs / 1000)} s after the last Running; ${apiChanges} pod changes in the API; each frame is also acked by the edge`,
      },
      {
        metric: 'ObjectSync writes per pod',
        value: fmt(o.pods > 0 ? syncWrites / o.pods : 0),
        note: `${syncWrites} creates/patches of the fan-out pods' ObjectSyncs (watch events), same window`,
      },
    );
  } finally {
    offWrite();
    w.stop();
    ws.stop();
  }
}
