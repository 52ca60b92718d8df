import type { ContainerInfo } from '../runtime/types.ts';
import type { ContainerTrack, PodState } from './state.ts';
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodStatus } from './types.ts';

export function restartPolicy(pod: Pod): 'Always' | 'OnFailure' | 'Never' {
  return pod.spec.restartPolicy ?? 'Always';
}

/** Whether a container that exited with `exitCode` is to be started again under the pod's policy. */
export function shouldRestart(pod: Pod, exitCode: number): boolean {
  const p = restartPolicy(pod);
  return p === 'Always' || (p === 'OnFailure' && exitCode !== 0);
}

/** `scheme` is the runtime's name: ids read `docker://...` or `containerd://...`, as kubelet reports them. */
export function terminatedOf(info: ContainerInfo, scheme: string): ContainerStateTerminated {
  const reason = info.error ? 'StartError' : info.oomKilled ? 'OOMKilled' : info.exitCode === 0 ? 'Completed' : 'Error';
  return {
    exitCode: info.exitCode,
    reason,
    ...(info.error ? { message: info.error } : {}),
    ...(info.startedAt ? { startedAt: info.startedAt } : { startedAt: info.createdAt }),
    ...(info.finishedAt ? { finishedAt: info.finishedAt } : {}),
    containerID: `${scheme}://${info.id}`,
  };
}

function containerStatus(_pod: Pod, c: Container, t: ContainerTrack | undefined, scheme: string): ContainerStatus {
  const cur = t?.current;
  const lastFromPrev: ContainerState = t?.prevTerminated ? { terminated: t.prevTerminated } : {};
  let state: ContainerState;
  let lastState = lastFromPrev;
  if (cur?.state === 'running') {
    state = { running: { startedAt: cur.startedAt ?? cur.createdAt } };
  } else if (cur && cur.state === 'exited' && t?.waiting) {
    // Dead and waiting for a restart: the dead instance is the last state, as kubectl shows it.
    state = { waiting: t.waiting };
    lastState = { terminated: terminatedOf(cur, scheme) };
  } else if (cur && cur.state === 'exited') {
    state = { terminated: terminatedOf(cur, scheme) };
  } else {
    state = { waiting: t?.waiting ?? { reason: 'ContainerCreating' } };
  }
  const running = cur?.state === 'running';
  const readiness = t?.probes.find((p) => p.kind === 'readiness');
  return {
    name: c.name,
    image: c.image,
    imageID: cur ? `${scheme}://${cur.imageRef}` : '',
    ...(cur ? { containerID: `${scheme}://${cur.id}` } : {}),
    ready: running && (readiness ? readiness.result && t?.probedId === cur?.id : true),
    started: running,
    restartCount: t?.restartCount ?? 0,
    state,
    lastState,
  };
}

/** kubelet's getPhase: waiting containers that never ran keep a pod Pending; finished ones settle the outcome. */
function phaseOf(pod: Pod, statuses: ContainerStatus[]): PodStatus['phase'] {
  let waiting = 0,
    running = 0,
    stopped = 0,
    succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    const policy = restartPolicy(pod);
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    // A waiting container with a terminated last state is being restarted (OnFailure).
    if (statuses.some((s) => s.state.waiting)) return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

function qosClass(pod: Pod): PodStatus['qosClass'] {
  const cs = pod.spec.containers;
  const hasAny = cs.some((c) => Object.keys(c.resources?.limits ?? {}).length + Object.keys(c.resources?.requests ?? {}).length > 0);
  if (!hasAny) return 'BestEffort';
  const guaranteed = cs.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? {};
    return (
      l['cpu'] !== undefined &&
      l['memory'] !== undefined &&
      (r['cpu'] === undefined || r['cpu'] === l['cpu']) &&
      (r['memory'] === undefined || r['memory'] === l['memory'])
    );
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * The full PodStatus of a pod. Deterministic given the state: timestamps come from the engine or from
 * condition transitions, so two calls without a real change give identical JSON.
 */
export function buildStatus(st: PodState, nodeIP: string, now: () => string, scheme: string): PodStatus {
  const pod = st.pod;
  const statuses = pod.spec.containers.map((c) => containerStatus(pod, c, st.containers.get(c.name), scheme));
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const cond = (type: PodCondition['type'], ok: boolean, reason?: string, message?: string): PodCondition => {
    const status = ok ? 'True' : 'False';
    const prev = st.conditionTimes.get(type);
    const time = prev && prev.status === status ? prev.time : (type === 'PodScheduled' || type === 'Initialized') && !prev ? st.startTime : now();
    st.conditionTimes.set(type, { status, time });
    return { type, status, lastProbeTime: null, lastTransitionTime: time, ...(ok || !reason ? {} : { reason }), ...(ok || !message ? {} : { message }) };
  };
  const readyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const status: PodStatus = {
    phase: phaseOf(pod, statuses),
    conditions: [
      cond('Initialized', true),
      cond('Ready', allReady, 'ContainersNotReady', readyMsg),
      cond('ContainersReady', allReady, 'ContainersNotReady', readyMsg),
      cond('PodScheduled', true),
    ],
    hostIP: nodeIP,
    hostIPs: nodeIP ? [{ ip: nodeIP }] : [],
    ...(st.podIP ? { podIP: st.podIP, podIPs: [{ ip: st.podIP }] } : {}),
    startTime: st.startTime,
    qosClass: qosClass(pod),
    containerStatuses: statuses,
  };
  return status;
}
