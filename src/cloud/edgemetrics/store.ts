import type { MetricsSample } from '../../apiserver/metrics/types.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 253;

/** At most this many pods per sample are kept (a node's maxPods is 110 by default). */
const MAX_PODS = 1000;

/**
 * A usage sample as an edge sent it, checked field by field: undefined when any part has the wrong shape (the
 * caller counts and logs it). Only what `metrics.k8s.io` serves is kept; `nodeName` is the session's node.
 */
export function parseSample(nodeName: string, v: unknown): MetricsSample | undefined {
  if (!isObj(v) || !isStr(v['timestamp']) || !Number.isFinite(Date.parse(v['timestamp'])) || !isObj(v['node']) || !Array.isArray(v['pods'])) return undefined;
  const node = v['node'];
  if (!isNum(node['memoryWorkingSetBytes']) || (node['usageNanoCores'] !== undefined && !isNum(node['usageNanoCores']))) return undefined;
  if (v['pods'].length > MAX_PODS) return undefined;
  const pods: MetricsSample['pods'] = [];
  for (const p of v['pods'] as unknown[]) {
    if (!isObj(p) || !isStr(p['namespace']) || !isStr(p['name']) || !Array.isArray(p['containers'])) return undefined;
    const containers: MetricsSample['pods'][number]['containers'] = [];
    for (const c of p['containers'] as unknown[]) {
      if (!isObj(c) || !isStr(c['name']) || !isNum(c['workingSetBytes']) || (c['usageNanoCores'] !== undefined && !isNum(c['usageNanoCores'])))
        return undefined;
      containers.push({
        name: c['name'],
        workingSetBytes: c['workingSetBytes'],
        ...(isNum(c['usageNanoCores']) ? { usageNanoCores: c['usageNanoCores'] } : {}),
      });
    }
    pods.push({ namespace: p['namespace'], name: p['name'], containers });
  }
  return {
    nodeName,
    timestamp: v['timestamp'],
    windowSeconds: isNum(v['windowSeconds']) ? v['windowSeconds'] : 15,
    node: { memoryWorkingSetBytes: node['memoryWorkingSetBytes'], ...(isNum(node['usageNanoCores']) ? { usageNanoCores: node['usageNanoCores'] } : {}) },
    pods,
  };
}

/** The last usage sample of each node, in memory (samples are replaced every 15 s; nothing needs keeping). */
export class NodeUsageStore {
  readonly #byNode = new Map<string, MetricsSample>();

  put(s: MetricsSample): void {
    this.#byNode.set(s.nodeName, s);
  }

  forget(nodeName: string): void {
    this.#byNode.delete(nodeName);
  }

  samples(): MetricsSample[] {
    return [...this.#byNode.values()];
  }
}
