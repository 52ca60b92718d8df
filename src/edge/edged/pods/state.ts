import type { ContainerInfo } from '../runtime/types.ts';
import type { Backoff } from './backoff.ts';
import type { ProbeWorker } from './probes.ts';
import type { TokenCache } from './projected.ts';
import type { ContainerStateTerminated, ContainerStateWaiting, Pod } from './types.ts';

/** What we know about one container of a pod across its instances (restarts). */
export type ContainerTrack = {
  name: string;
  /** The current instance as last inspected; it may have exited. */
  current?: ContainerInfo | undefined;
  /**
   * The instance before `current`, kept (exited) in the engine as the kubelet keeps it, so `kubectl logs --previous`
   * has something to read; removed when the next one replaces it.
   */
  previous?: ContainerInfo | undefined;
  /** Instance number of `current` (0 for the first); kept in a label so it survives edgecore restarts. */
  restartCount: number;
  /** How the previous instance ended. */
  prevTerminated?: ContainerStateTerminated;
  /** Why there is no running instance right now (image pull, config error, back-off). */
  waiting?: ContainerStateWaiting;
  /** Whether any instance was ever created; a pod with restartPolicy Never never creates a second. */
  everCreated: boolean;
  crashBackoff: Backoff;
  pullBackoff: Backoff;
  pullError?: string;
  probes: ProbeWorker[];
  probedId?: string;
  /** Set by a liveness failure; the next sync stops this instance. */
  killRequested?: string;
};

export type PodState = {
  pod: Pod;
  uid: string;
  adopted: boolean;
  sandbox?: ContainerInfo | undefined;
  sandboxAttempt: number;
  podIP: string;
  startTime: string;
  containers: Map<string, ContainerTrack>;
  volumePaths?: Map<string, string>;
  /** Projected/downwardAPI volumes: when and for which pod IP and spec they were last written, and their tokens. */
  projected?: { at: number; key: string; tokens: TokenCache };
  /** A pod-level problem blocking container creation (missing configMap for a volume, ...). */
  setupError?: ContainerStateWaiting;
  terminating: boolean;
  lastStatusJson?: string;
  conditionTimes: Map<string, { status: string; time: string }>;
  wakeTimer?: NodeJS.Timeout;
  wakeAt?: number;
  running?: Promise<void>;
  again: boolean;
  gone: boolean;
};
