import type { Bus } from '../../../core/bus.ts';
import { buildResource, newMessage } from '../../../core/message.ts';
import { EdgeModules } from '../../common/modules.ts';
import type { StatsSample } from './types.ts';

/**
 * The resource type of a usage sample on the cloud link: `<ns>/nodemetrics/<node>`. Only kubeedge-ts's cloud
 * knows it (KubeEdge's drops it as an unknown type); it goes straight to EdgeHub, not through MetaManager or
 * any reliable queue: a lost sample is replaced by the next one 15 s later.
 */
export const NODE_METRICS_TYPE = 'nodemetrics';
export const NODE_METRICS_NAMESPACE = 'kube-system';

export function sendStatsToCloud(bus: Bus, s: StatsSample): void {
  const msg = newMessage({
    source: EdgeModules.edged,
    group: 'resource',
    operation: 'update',
    resource: buildResource(NODE_METRICS_NAMESPACE, NODE_METRICS_TYPE, s.nodeName),
    content: s,
  });
  // Dropped (with no waiter to answer) while the link is down.
  bus.send(EdgeModules.edgeHub, msg);
}

/** Pods per phase for the `kubeedge_edged_pods` gauge; a pod with no status yet is Pending. */
export function podPhaseCounts(phases: Array<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of phases) {
    const phase = p ?? 'Pending';
    counts[phase] = (counts[phase] ?? 0) + 1;
  }
  return counts;
}
