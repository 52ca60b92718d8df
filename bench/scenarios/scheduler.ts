import path from 'node:path';
import { nowMs } from '../lib/api.ts';
import { startCloud } from '../lib/cloud.ts';
import { pool, waitUntil } from '../lib/pool.ts';
import { measureUsage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';

export type SchedulerBenchOptions = { workDir: string; nodes: number; pods: number; concurrency: number; timeoutMs: number };

const NS = 'bench-sched';
const NODE_CPU_MILLI = 4000;
const POD_CPU_MILLI = 100;

/**
 * The embedded scheduler under a burst: `nodes` Node objects (Ready, 4 CPUs, 110 pods; no kubelet behind them) and
 * `pods` pods without a node, each requesting 100m CPU, created `concurrency` at a time. Timed from each create to
 * the watch event that shows it bound; afterwards every node's bound requests are checked against its CPUs (an
 * overcommitted node is an error) and the spread over nodes is reported.
 */
export async function schedulerBench(o: SchedulerBenchOptions, out: BenchOutcome): Promise<void> {
  out.params = { nodes: o.nodes, pods: o.pods, concurrency: o.concurrency, nodeCpuMilli: NODE_CPU_MILLI, podCpuMilli: POD_CPU_MILLI };
  const cloud = await startCloud({ dir: path.join(o.workDir, 'scheduler'), nodeLimit: o.nodes + 10 });
  const errors: Record<string, number> = { node: 0, create: 0, network: 0, notBound: 0, overcommitted: 0 };
  const sentAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  const boundTo = new Map<string, string>();
  try {
    const api = cloud.api;
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const res = { cpu: `${NODE_CPU_MILLI}m`, memory: '16Gi', pods: '110' };
    await pool(o.nodes, 8, async (i) => {
      const name = `sched-node-${i}`;
      const c = await api.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
      const s = await api.request(
        'PATCH',
        `/api/v1/nodes/${name}/status`,
        {
          status: {
            capacity: res,
            allocatable: res,
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at, lastTransitionTime: at }],
          },
        },
        'application/merge-patch+json',
      );
      if (c.status !== 201 || s.status !== 200) errors['node'] = (errors['node'] ?? 0) + 1;
    });
    const w = api.watch(`/api/v1/namespaces/${NS}/pods`, (type, pod, t) => {
      const node = pod?.spec?.nodeName;
      if (type !== 'DELETED' && typeof node === 'string' && node !== '' && !boundAt.has(pod.metadata.name)) {
        boundAt.set(pod.metadata.name, t);
        boundTo.set(pod.metadata.name, node);
      }
    });
    try {
      const usageP = measureUsage(cloud.daemon.pid, 5000);
      const t0 = nowMs();
      await pool(o.pods, o.concurrency, async (i) => {
        const name = `sched-${i}`;
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: NS },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: `${POD_CPU_MILLI}m` } } }] },
        };
        sentAt.set(name, nowMs());
        try {
          const r = await api.request('POST', `/api/v1/namespaces/${NS}/pods`, pod);
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
      await waitUntil(() => boundAt.size >= sentAt.size, o.timeoutMs, 100);
      const usage = await usageP;
      const lat: number[] = [];
      for (const [name, t] of sentAt) {
        const b = boundAt.get(name);
        if (b === undefined) errors['notBound'] = (errors['notBound'] ?? 0) + 1;
        else lat.push(b - t);
      }
      const perNode = new Map<string, number>();
      for (const n of boundTo.values()) perNode.set(n, (perNode.get(n) ?? 0) + 1);
      for (const c of perNode.values()) if (c * POD_CPU_MILLI > NODE_CPU_MILLI) errors['overcommitted'] = (errors['overcommitted'] ?? 0) + 1;
      const counts = [...perNode.values()];
      const spread = { nodesUsed: perNode.size, min: counts.length === o.nodes ? Math.min(...counts) : 0, max: Math.max(0, ...counts) };
      const lastBound = Math.max(t0, ...boundAt.values());
      const s = summarize(lat);
      const errCount = Object.values(errors).reduce((a, b) => a + b, 0);
      const q = errCount > 0 ? ` (over ${s.n} of ${o.pods}; ${errCount} errors)` : '';
      out.errors = errors;
      out.figures = {
        createToBoundMs: s,
        podsPerSec: rate(boundAt.size, lastBound - t0),
        createRatePerSec: rate(sentAt.size, createdIn),
        spread,
        cloudcoreDuringBurst: usage,
      };
      out.rows.push(
        {
          metric: 'create -> bound p50/p90/p99',
          value: `${fmt(s.p50)} / ${fmt(s.p90)} / ${fmt(s.p99)} ms`,
          note: `${s.n} pods over ${o.nodes} nodes; watch event in the API${q}`,
        },
        {
          metric: 'throughput',
          value: `${fmt(rate(boundAt.size, lastBound - t0))} pods/s`,
          note: `first create to last bound; creates issued at ${fmt(rate(sentAt.size, createdIn))}/s, concurrency ${o.concurrency}`,
        },
        {
          metric: 'spread',
          value: `${spread.min}..${spread.max} pods per node`,
          note: `${spread.nodesUsed} of ${o.nodes} nodes used; none over its CPUs unless errors say so`,
        },
        {
          metric: 'cloudcore during the burst',
          value: usage ? `${fmt(usage.cpuPercent)} % / ${fmt(usage.rssPeakMiB)} MiB` : 'n/a',
          note: 'CPU % of one core / peak RSS, first 5 s',
        },
      );
    } finally {
      w.stop();
    }
  } finally {
    await cloud.stop();
  }
}
