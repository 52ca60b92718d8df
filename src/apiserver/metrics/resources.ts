import type { ResourceDef } from '../resources.ts';

export const METRICS_GROUP = 'metrics.k8s.io';

const def = (kind: string, plural: string, namespaced: boolean): ResourceDef => ({
  group: METRICS_GROUP,
  version: 'v1beta1',
  kind,
  plural,
  singular: '',
  namespaced,
  shortNames: [],
  subresources: [],
  verbs: ['get', 'list'],
  // Never stored: answered from the edges' last usage samples (serve.ts).
  virtual: true,
});

/** metrics-server's resources, as discovery lists them. */
export const METRICS_RESOURCES: readonly ResourceDef[] = [def('NodeMetrics', 'nodes', false), def('PodMetrics', 'pods', true)];

export function isMetricsResource(r: ResourceDef): boolean {
  return r.group === METRICS_GROUP;
}
