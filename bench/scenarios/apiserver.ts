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
    const crd = await crdVsBuiltin(api, ns, o, errors);
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
      crdVsBuiltin: crd,
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
      ...crdRows(crd),
    );
  } finally {
    await cloud.stop();
  }
}

type Summary = ReturnType<typeof summarize>;
type CrdFigures = { crdCreate: Summary; crdUpdate: Summary; builtinCreate: Summary; builtinUpdate: Summary };

/** A CRD kind with a 10-field structural schema (types, enum, range, pattern, default) for the comparison below. */
const BENCH_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gauges.bench.kubeedge-ts.io' },
  spec: {
    group: 'bench.kubeedge-ts.io',
    scope: 'Namespaced',
    names: { plural: 'gauges', kind: 'Gauge' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['unit', 'min', 'max'],
                properties: {
                  unit: { type: 'string', enum: ['C', 'F', 'K'] },
                  min: { type: 'integer', minimum: -1000 },
                  max: { type: 'integer', maximum: 1000 },
                  step: { type: 'number', default: 1 },
                  label: { type: 'string', pattern: '^[a-z0-9-]+$', maxLength: 63 },
                  enabled: { type: 'boolean' },
                  node: { type: 'string' },
                  tags: { type: 'array', items: { type: 'string' } },
                  attrs: { type: 'object', additionalProperties: { type: 'string' } },
                  cycleMs: { type: 'integer', minimum: 0 },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/**
 * p50/p99 of create and update (merge patch) for an object of a CRD kind with a 10-field schema, against the same
 * for a built-in kind (ConfigMap with a comparable body), one after the other at the same concurrency.
 */
async function crdVsBuiltin(
  api: { request(m: string, p: string, b?: unknown, ct?: string): Promise<{ status: number; ms: number }> },
  ns: string,
  o: ApiBenchOptions,
  errors: Record<string, number>,
): Promise<CrdFigures> {
  await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', BENCH_CRD);
  const lat = { crdCreate: [] as number[], crdUpdate: [] as number[], builtinCreate: [] as number[], builtinUpdate: [] as number[] };
  const call = async (k: keyof typeof lat, m: string, p: string, b: unknown, ct?: string) => {
    try {
      const r = await api.request(m, p, b, ct);
      if (r.status >= 200 && r.status < 300) lat[k].push(r.ms);
      else errors[k] = (errors[k] ?? 0) + 1;
    } catch {
      errors['network'] = (errors['network'] ?? 0) + 1;
    }
  };
  const spec = (i: number) => ({
    unit: 'C',
    min: -40,
    max: 125,
    label: `gauge-${i}`,
    enabled: true,
    node: 'edge-1',
    tags: ['a', 'b'],
    attrs: { room: '1' },
    cycleMs: 1000,
  });
  const crdBase = `/apis/bench.kubeedge-ts.io/v1/namespaces/${ns}/gauges`;
  const cmBase = `/api/v1/namespaces/${ns}/configmaps`;
  await pool(o.objects, o.concurrency, (i) =>
    call('crdCreate', 'POST', crdBase, { apiVersion: 'bench.kubeedge-ts.io/v1', kind: 'Gauge', metadata: { name: `g-${i}` }, spec: spec(i) }),
  );
  await pool(o.objects, o.concurrency, (i) =>
    call('crdUpdate', 'PATCH', `${crdBase}/g-${i}`, { spec: { max: 100 + (i % 10) } }, 'application/merge-patch+json'),
  );
  await pool(o.objects, o.concurrency, (i) =>
    call('builtinCreate', 'POST', cmBase, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `g-${i}` },
      data: Object.fromEntries(Object.entries(spec(i)).map(([k, v]) => [k, JSON.stringify(v)])),
    }),
  );
  await pool(o.objects, o.concurrency, (i) =>
    call('builtinUpdate', 'PATCH', `${cmBase}/g-${i}`, { data: { max: String(100 + (i % 10)) } }, 'application/merge-patch+json'),
  );
  return {
    crdCreate: summarize(lat.crdCreate),
    crdUpdate: summarize(lat.crdUpdate),
    builtinCreate: summarize(lat.builtinCreate),
    builtinUpdate: summarize(lat.builtinUpdate),
  };
}

function crdRows(f: CrdFigures): { metric: string; value: string; note: string }[] {
  const row = (metric: string, s: Summary, note: string) => ({ metric, value: `${fmt(s.p50)} / ${fmt(s.p99)} ms`, note: `n=${s.n}; ${note}` });
  return [
    row('CRD object create p50 / p99', f.crdCreate, '10-field structural schema: prune, default, validate'),
    row('CRD object update p50 / p99', f.crdUpdate, 'merge patch'),
    row('built-in (ConfigMap) create p50 / p99', f.builtinCreate, 'same values as data'),
    row('built-in (ConfigMap) update p50 / p99', f.builtinUpdate, 'merge patch'),
  ];
}
