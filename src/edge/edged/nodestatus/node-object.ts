import { sortKeys, type HostInfo } from './host-info.ts';

export const LEASE_NAMESPACE = 'kube-node-lease';

/** Kubernetes `Time`: RFC 3339, whole seconds. */
export function k8sTime(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Kubernetes `MicroTime` (`2026-11-29T23:08:37.762430Z`), as Lease.spec.renewTime carries it. */
export function k8sMicroTime(epochMicros: number = Math.floor((performance.timeOrigin + performance.now()) * 1000)): string {
  const secs = Math.floor(epochMicros / 1e6);
  const frac = String(epochMicros - secs * 1e6).padStart(6, '0');
  return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

export type NodeCondition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastHeartbeatTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
};

/** Measured conditions; each carries its own lastTransitionTime (else the node's start). */
export type MeasuredConditions = { diskPressure?: { status: boolean; since: string } };

/** The four conditions an edge node reports, in the kubelet's order. */
export function nodeConditions(heartbeat: string, transition: string, measured: MeasuredConditions = {}): NodeCondition[] {
  const c = (type: string, status: 'True' | 'False', reason: string, message: string, since = transition): NodeCondition => ({
    type,
    status,
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: since,
    reason,
    message,
  });
  const disk = measured.diskPressure;
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    disk?.status === true
      ? c('DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure', disk.since)
      : c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', disk?.since),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'EdgeReady', 'edge is posting ready status'),
  ];
}

export function nodeLabels(nodeName: string, info: HostInfo, extra: Record<string, string>): Record<string, string> {
  const os = info.nodeInfo.operatingSystem;
  const arch = info.nodeInfo.architecture;
  return sortKeys({
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': os,
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': os,
    'node-role.kubernetes.io/agent': '',
    'node-role.kubernetes.io/edge': '',
    ...extra,
  });
}

/** The Node that registration inserts (no kind/apiVersion, as KubeEdge's edged sends it). */
export function registrationNode(
  nodeName: string,
  info: HostInfo,
  extraLabels: Record<string, string>,
  nowMs: number = Date.now(),
  measured: MeasuredConditions = {},
): Record<string, unknown> {
  const t = k8sTime(nowMs);
  return {
    metadata: {
      name: nodeName,
      creationTimestamp: null,
      labels: nodeLabels(nodeName, info, extraLabels),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: {
      capacity: info.capacity,
      allocatable: info.allocatable,
      conditions: nodeConditions(t, t, measured),
      addresses: info.addresses,
      daemonEndpoints: info.daemonEndpoints,
      nodeInfo: info.nodeInfo,
    },
  };
}

/**
 * Strategic-merge patch of `status`, serialised as KubeEdge sends nodepatch content (a JSON string).
 * Condition keys are alphabetical because the kubelet's patch is a marshalled map.
 */
export function nodeStatusPatch(info: HostInfo, heartbeat: string, transition: string, measured: MeasuredConditions = {}): string {
  const conditions = nodeConditions(heartbeat, transition, measured).map((c) => sortKeys(c as unknown as Record<string, string>));
  return JSON.stringify({
    status: {
      '$setElementOrder/conditions': conditions.map((c) => ({ type: c['type'] })),
      addresses: info.addresses,
      allocatable: info.allocatable,
      capacity: info.capacity,
      conditions,
      daemonEndpoints: info.daemonEndpoints,
      nodeInfo: info.nodeInfo,
    },
  });
}

export type Lease = {
  metadata: Record<string, unknown>;
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; [k: string]: unknown };
  [k: string]: unknown;
};

/** A new Lease owned by the Node (no kind/apiVersion, as on the wire). */
export function newLease(nodeName: string, nodeUid: string, durationSeconds: number, renewTime: string): Lease {
  return {
    metadata: {
      name: nodeName,
      namespace: LEASE_NAMESPACE,
      creationTimestamp: null,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }],
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime },
  };
}

/** The lease as last returned by the cloud, with renewTime bumped. */
export function renewedLease(lease: Lease, renewTime: string): Lease {
  return { ...lease, spec: { ...lease.spec, renewTime } };
}
