import type { ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { sendJson } from '../handlers/http.ts';
import type { KObj } from '../store.ts';
import { findResource, type ResourceDef } from '../resources.ts';
import { parseLabelSelector } from '../selectors.ts';
import { wantsTable } from '../tables.ts';
import { ApiError, notFound } from '../status.ts';
import { METRICS_GROUP } from './resources.ts';
import type { MetricsProvider, MetricsSample } from './types.ts';

/** A sample older than this is not served: the node stopped reporting (metrics-server forgets such nodes too). */
const MAX_AGE_MS = 3 * 60_000;

const API_VERSION = `${METRICS_GROUP}/v1beta1`;

const cpu = (nanoCores: number | undefined): string => `${Math.max(0, Math.round(nanoCores ?? 0))}n`;
const memory = (bytes: number): string => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

type Meta = { name?: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: string };

function metaOf(o: KObj | undefined): Meta {
  return (o?.['metadata'] as Meta | undefined) ?? {};
}

export function nodeMetrics(s: MetricsSample, node: KObj | undefined): KObj {
  const m = metaOf(node);
  return {
    kind: 'NodeMetrics',
    apiVersion: API_VERSION,
    metadata: { name: s.nodeName, creationTimestamp: new Date().toISOString(), ...(m.labels !== undefined ? { labels: m.labels } : {}) },
    timestamp: s.timestamp,
    window: `${Math.max(1, s.windowSeconds)}s`,
    usage: { cpu: cpu(s.node.usageNanoCores), memory: memory(s.node.memoryWorkingSetBytes) },
  };
}

export function podMetrics(s: MetricsSample, p: MetricsSample['pods'][number], pod: KObj | undefined): KObj {
  const m = metaOf(pod);
  return {
    kind: 'PodMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: p.name,
      namespace: p.namespace,
      creationTimestamp: new Date().toISOString(),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
    },
    timestamp: s.timestamp,
    window: `${Math.max(1, s.windowSeconds)}s`,
    containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpu(c.usageNanoCores), memory: memory(c.workingSetBytes) } })),
  };
}

export type MetricsRequest = {
  res: ServerResponse;
  engine: Engine;
  def: ResourceDef;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
  provider: MetricsProvider | undefined;
  /** The request's Accept: `kubectl get` asks for a Table. */
  accept?: string;
};

/**
 * GET/LIST of NodeMetrics and PodMetrics from the last samples, joined with the stored Node and Pod objects:
 * only what still exists is served, with its labels (so `kubectl top pod -l app=x` selects as metrics-server).
 */
export function serveMetrics(r: MetricsRequest): void {
  const all = engineDefs(r.engine);
  const now = Date.now();
  const samples = (r.provider?.() ?? []).filter((s) => now - Date.parse(s.timestamp) < MAX_AGE_MS);
  const selector = parseLabelSelector(r.query.get('labelSelector'));
  let items: KObj[];
  if (r.def.kind === 'NodeMetrics') {
    const nodes = all.node;
    items = samples.flatMap((s) => {
      const node = nodes === undefined ? undefined : r.engine.find(nodes, undefined, s.nodeName);
      return node === undefined ? [] : [nodeMetrics(s, node)];
    });
  } else {
    const pods = all.pod;
    items = samples.flatMap((s) =>
      s.pods
        .filter((p) => r.namespace === undefined || p.namespace === r.namespace)
        .flatMap((p) => {
          const pod = pods === undefined ? undefined : r.engine.find(pods, p.namespace, p.name);
          // A pod that was deleted or moved away is not this node's any more.
          const spec = pod?.['spec'] as { nodeName?: string } | undefined;
          return pod === undefined || spec?.nodeName !== s.nodeName ? [] : [podMetrics(s, p, pod)];
        }),
    );
  }
  if (r.name !== undefined) {
    const one = items.find((o) => metaOf(o).name === r.name);
    if (one === undefined) throw notFound(r.def.plural, METRICS_GROUP, r.name);
    sendJson(r.res, 200, wantsTable(r.accept) ? metricsTable([one]) : one);
    return;
  }
  items = items.filter(selector).sort((a, b) => `${metaOf(a).namespace}/${metaOf(a).name}`.localeCompare(`${metaOf(b).namespace}/${metaOf(b).name}`));
  if (wantsTable(r.accept)) {
    sendJson(r.res, 200, metricsTable(items));
    return;
  }
  sendJson(r.res, 200, { kind: `${r.def.kind}List`, apiVersion: API_VERSION, metadata: {}, items });
}

function engineDefs(engine: Engine): { node: ResourceDef | undefined; pod: ResourceDef | undefined } {
  const defs = engine.resources.all();
  return { node: findResource('', 'v1', 'nodes', defs), pod: findResource('', 'v1', 'pods', defs) };
}

export function metricsMethodNotAllowed(method: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
}

type Usage = { cpu: string; memory: string };

/** A pod's usage is its containers' summed (as metrics-server's table shows it). */
function usageOf(o: KObj): Usage {
  const u = o['usage'] as Usage | undefined;
  if (u !== undefined) return u;
  const cs = (o['containers'] as { usage: Usage }[] | undefined) ?? [];
  const n = (q: string, unit: string) => Number(q.slice(0, -unit.length)) || 0;
  return {
    cpu: `${cs.reduce((a, c) => a + n(c.usage.cpu, 'n'), 0)}n`,
    memory: `${cs.reduce((a, c) => a + n(c.usage.memory, 'Ki'), 0)}Ki`,
  };
}

/** `kubectl get nodes.metrics.k8s.io` / `podmetrics`: the columns metrics-server prints (name, CPU, memory, window). */
export function metricsTable(items: KObj[]): KObj {
  const column = (name: string, format = '') => ({ name, type: 'string', format, description: '', priority: 0 });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: [column('Name', 'name'), column('CPU'), column('Memory'), column('Window')],
    rows: items.map((o) => {
      const u = usageOf(o);
      const m = metaOf(o);
      return {
        cells: [m.name, u.cpu, u.memory, o['window']],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] },
      };
    }),
  };
}
