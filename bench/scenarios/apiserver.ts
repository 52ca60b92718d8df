import path from 'node:path';
import { startCloud } from '../lib/cloud.ts';
import { pool } from '../lib/pool.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, summarize } from '../lib/stats.ts';
import { sampleProc, cpuPercent } from '../lib/proc.ts';

export type ApiBenchOptions = { workDir: string; objects: number; concurrency: number; lists: number };

const SLO_MS = 1000;

/**
 * kubectl-like load on the embedded API server: create, get, list, patch and delete ConfigMaps through the REST API
 * with the admin kubeconfig's token, `concurrency` requests in flight, every request timed client-side.
 */
export async function apiServerBench(o: ApiBenchOptions, out: BenchOutcome): Promise<void> {
  out.params = { objects: o.objects, concurrency: o.concurrency, lists: o.lists, sloP99Ms: SLO_MS };
  const cloud = await startCloud({ dir: path.join(o.workDir, 'apiserver'), nodeLimit: 100 });
  try {
    const api = cloud.api;
    const ns = 'bench-api';
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const lat: Record<'create' | 'get' | 'list' | 'patch' | 'delete', number[]> = { create: [], get: [], list: [], patch: [], delete: [] };
    const errors: Record<string, number> = { create: 0, get: 0, list: 0, patch: 0, delete: 0, network: 0 };
    const data = { payload: 'x'.repeat(512) };
    const call = async (kind: keyof typeof lat, method: string, p: string, body?: unknown, ct?: string): Promise<void> => {
      try {
        const r = await api.request(method, p, body, ct);
        if (r.status >= 200 && r.status < 300) lat[kind].push(r.ms);
        else errors[kind] = (errors[kind] ?? 0) + 1;
      } catch {
        errors['network'] = (errors['network'] ?? 0) + 1;
      }
    };
    const base = `/api/v1/namespaces/${ns}/configmaps`;
    const before = sampleProc(cloud.daemon.pid);
    const t0 = performance.now();
    await pool(o.objects, o.concurrency, (i) =>
      call('create', 'POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { bench: 'api' } }, data }),
    );
    await pool(o.objects, o.concurrency, (i) => call('get', 'GET', `${base}/cm-${i}`));
    await pool(o.lists, o.concurrency, () => call('list', 'GET', `${base}?labelSelector=bench%3Dapi`));
    await pool(o.objects, o.concurrency, (i) =>
      call('patch', 'PATCH', `${base}/cm-${i}`, { metadata: { annotations: { touched: String(i) } } }, 'application/merge-patch+json'),
    );
    await pool(o.objects, o.concurrency, (i) => call('delete', 'DELETE', `${base}/cm-${i}`));
    const wallMs = performance.now() - t0;
    const after = sampleProc(cloud.daemon.pid);
    const mutating = summarize([...lat.create, ...lat.patch, ...lat.delete]);
    const reads = summarize([...lat.get]);
    const lists = summarize(lat.list);
    const total = mutating.n + reads.n + lists.n;
    out.errors = errors;
    const errCount = Object.values(errors).reduce((a, b) => a + b, 0);
    const q = errCount === 0 ? '' : ` (${errCount} failed requests excluded)`;
    out.figures = {
      mutating,
      reads,
      lists,
      byOp: Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, summarize(v)])),
      requests: total,
      wallMs,
      throughputPerSec: (total * 1000) / wallMs,
      cloudcoreCpuPercent: before && after ? cpuPercent(before, after) : null,
      cloudcoreRssMiB: after ? after.rssBytes / 2 ** 20 : null,
      sloMet: mutating.p99 <= SLO_MS && reads.p99 <= SLO_MS && lists.p99 <= SLO_MS,
    };
    const slo = (p99: number) => (p99 <= SLO_MS ? 'SLO p99<=1s met' : 'SLO p99<=1s MISSED');
    out.rows.push(
      {
        metric: 'mutating p50 / p99',
        value: `${fmt(mutating.p50)} / ${fmt(mutating.p99)} ms`,
        note: `n=${mutating.n} create+patch+delete; ${slo(mutating.p99)}${q}`,
      },
      { metric: 'read (get) p50 / p99', value: `${fmt(reads.p50)} / ${fmt(reads.p99)} ms`, note: `n=${reads.n}; ${slo(reads.p99)}` },
      { metric: `list ${o.objects} objects p50 / p99`, value: `${fmt(lists.p50)} / ${fmt(lists.p99)} ms`, note: `n=${lists.n}; ${slo(lists.p99)}` },
      { metric: 'throughput', value: `${fmt((total * 1000) / wallMs)} req/s`, note: `concurrency ${o.concurrency}, ${total} requests` },
      {
        metric: 'cloudcore CPU / RSS under load',
        value: `${fmt(Number(out.figures['cloudcoreCpuPercent']))} % / ${fmt(Number(out.figures['cloudcoreRssMiB']))} MiB`,
        note: '% of one core',
      },
    );
  } finally {
    await cloud.stop();
  }
}
