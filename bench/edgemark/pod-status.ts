import { k8sTime } from '../../src/edge/edged/nodestatus/node-object.ts';

type PodLike = { metadata?: { uid?: string }; spec?: unknown } | null;
type Container = { name?: string; image?: string };

/**
 * The strategic-merge patch a kubelet sends once every container of a pod runs (as KubeEdge's `podpatch` content,
 * a JSON string), for a node that runs nothing: the containers are reported started, never started for real.
 */
export function podRunningPatch(pod: PodLike, hostIP: string, now = Date.now()): string {
  const t = k8sTime(now);
  const containers = ((pod?.spec as { containers?: Container[] } | undefined)?.containers ?? []).filter((c) => typeof c.name === 'string');
  const cond = (type: string) => ({ lastProbeTime: null, lastTransitionTime: t, status: 'True', type });
  return JSON.stringify({
    metadata: { uid: pod?.metadata?.uid ?? '' },
    status: {
      conditions: [cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
      containerStatuses: containers.map((c) => ({
        containerID: `edgemark://${c.name ?? ''}`,
        image: c.image ?? '',
        imageID: '',
        lastState: {},
        name: c.name,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: t } },
      })),
      hostIP,
      phase: 'Running',
      podIP: hostIP,
      podIPs: [{ ip: hostIP }],
      startTime: t,
    },
  });
}
