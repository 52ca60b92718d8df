import type { ContainerInfo, ContainerSpec, ContainerStateName, SandboxSpec } from '../types.ts';
import type {
  ContainerConfig,
  CriContainerState,
  CriContainerStatus,
  LinuxContainerResources,
  LinuxContainerSecurityContext,
  NamespaceOption,
  PodSandboxConfig,
  PodSandboxStatus,
} from '../../../../containers/cri/index.ts';

/**
 * Pure translations between the engine-neutral runtime types and CRI messages. The pod identity CRI wants as
 * metadata comes from the kubelet-style labels the pod manager already sets (io.kubernetes.pod.*).
 */

const L_POD_NAME = 'io.kubernetes.pod.name';
const L_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
const L_POD_UID = 'io.kubernetes.pod.uid';
const L_CONTAINER_NAME = 'io.kubernetes.container.name';
const L_ATTEMPT = 'io.kubeedge-ts.restart-count';
/** Annotations that let us answer `inspect` with what the engine-neutral type expects. */
export const A_NAME = 'io.kubeedge-ts.name';
export const A_IMAGE = 'io.kubeedge-ts.image';
export const A_LOG_DIRECTORY = 'io.kubeedge-ts.log-directory';
export const A_HOST_NETWORK = 'io.kubeedge-ts.host-network';

const CPU_PERIOD = 100_000;

function attemptOf(labels: Record<string, string>): number {
  const n = Number(labels[L_ATTEMPT] ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function safe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** kubelet's layout: /var/log/pods/<namespace>_<name>_<uid>. */
export function podLogDirectory(logRoot: string, labels: Record<string, string>, fallbackName: string): string {
  const name = labels[L_POD_NAME] ?? fallbackName;
  return `${logRoot}/${safe(labels[L_POD_NAMESPACE] ?? 'default')}_${safe(name)}_${safe(labels[L_POD_UID] ?? fallbackName)}`;
}

export function namespaceOptions(hostNetwork: boolean): NamespaceOption {
  return { network: hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' };
}

export function sandboxConfig(spec: SandboxSpec, logDirectory: string): PodSandboxConfig {
  return {
    metadata: {
      name: spec.labels[L_POD_NAME] ?? spec.name,
      uid: spec.labels[L_POD_UID] ?? spec.name,
      namespace: spec.labels[L_POD_NAMESPACE] ?? 'default',
      attempt: attemptOf(spec.labels),
    },
    hostname: spec.hostNetwork ? '' : (spec.hostname ?? ''),
    log_directory: logDirectory,
    port_mappings: spec.hostNetwork
      ? []
      : spec.portMappings.map((p) => ({
          protocol: p.protocol,
          container_port: p.containerPort,
          host_port: p.hostPort,
          host_ip: p.hostIP ?? '',
        })),
    ...(spec.dns === undefined ? {} : { dns_config: { servers: spec.dns.servers, searches: spec.dns.searches, options: spec.dns.options } }),
    labels: spec.labels,
    annotations: { [A_NAME]: spec.name, [A_IMAGE]: spec.image, [A_LOG_DIRECTORY]: logDirectory, [A_HOST_NETWORK]: String(spec.hostNetwork) },
    linux: { security_context: { namespace_options: namespaceOptions(spec.hostNetwork), ...(spec.privileged ? { privileged: true } : {}) } },
  };
}

/** The config a sandbox was made with, rebuilt from its status (containerd wants it again on CreateContainer). */
export function sandboxConfigFromStatus(s: PodSandboxStatus): PodSandboxConfig {
  const hostNetwork = s.annotations[A_HOST_NETWORK] === 'true';
  return {
    metadata: s.metadata ?? { name: s.id, uid: s.id, namespace: 'default', attempt: 0 },
    hostname: '',
    log_directory: s.annotations[A_LOG_DIRECTORY] ?? '',
    port_mappings: [],
    labels: s.labels,
    annotations: s.annotations,
    linux: { security_context: { namespace_options: namespaceOptions(hostNetwork) } },
  };
}

/** `1000`, `1000:1000` or a user name (Docker's `User` forms) → CRI's run_as_user / run_as_group / run_as_username. */
function userFields(user: string | undefined): Partial<LinuxContainerSecurityContext> {
  if (user === undefined || user === '') return {};
  const [u = '', g] = user.split(':');
  const out: Partial<LinuxContainerSecurityContext> = /^\d+$/.test(u) ? { run_as_user: { value: u } } : { run_as_username: u };
  if (g !== undefined && /^\d+$/.test(g)) out.run_as_group = { value: g };
  return out;
}

function resources(spec: ContainerSpec): LinuxContainerResources {
  const r: LinuxContainerResources = {};
  if (spec.nanoCpus) {
    r.cpu_period = String(CPU_PERIOD);
    r.cpu_quota = String(Math.max(1000, Math.round((spec.nanoCpus * CPU_PERIOD) / 1e9)));
    // Shares follow the limit, as kubelet does when only a limit is given (requests default to limits).
    r.cpu_shares = String(Math.max(2, Math.round((spec.nanoCpus * 1024) / 1e9)));
  }
  if (spec.memoryBytes) r.memory_limit_in_bytes = String(spec.memoryBytes);
  return r;
}

export function containerConfig(spec: ContainerSpec): ContainerConfig {
  const name = spec.labels[L_CONTAINER_NAME] ?? spec.name;
  const attempt = attemptOf(spec.labels);
  return {
    metadata: { name, attempt },
    image: { image: spec.image },
    // CRI has Kubernetes' semantics: command replaces the entrypoint, and command without args drops the CMD.
    command: spec.command ?? [],
    args: spec.args ?? [],
    working_dir: spec.workingDir ?? '',
    envs: spec.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: spec.mounts.map((m) => ({ container_path: m.containerPath, host_path: m.hostPath, readonly: m.readOnly })),
    labels: spec.labels,
    annotations: { [A_NAME]: spec.name },
    log_path: `${safe(name)}/${attempt}.log`,
    stdin: spec.stdin ?? false,
    tty: spec.tty ?? false,
    linux: {
      resources: resources(spec),
      security_context: {
        namespace_options: namespaceOptions(spec.hostNetwork),
        ...(spec.capAdd?.length || spec.capDrop?.length
          ? { capabilities: { add_capabilities: spec.capAdd ?? [], drop_capabilities: spec.capDrop ?? [] } }
          : {}),
        ...(spec.privileged ? { privileged: true } : {}),
        ...(spec.readOnlyRootFilesystem ? { readonly_rootfs: true } : {}),
        ...userFields(spec.user),
      },
    },
  };
}

/** CRI timestamps are int64 nanoseconds since the epoch; 0 means "never". */
export function nanosToIso(ns: string | number | undefined): string | undefined {
  if (ns === undefined || ns === '' || ns === '0' || ns === 0) return undefined;
  const ms = Number(BigInt(ns) / 1_000_000n);
  return new Date(ms).toISOString();
}

function stateName(s: CriContainerState): ContainerStateName {
  switch (s) {
    case 'CONTAINER_CREATED':
      return 'created';
    case 'CONTAINER_RUNNING':
      return 'running';
    case 'CONTAINER_EXITED':
      return 'exited';
    default:
      return 'unknown';
  }
}

/** Reasons containerd gives a container that ran and ended normally; anything else carries an engine error. */
const ORDINARY_REASONS = new Set(['', 'Completed', 'Error', 'OOMKilled']);

export function containerInfo(s: CriContainerStatus): ContainerInfo {
  const state = stateName(s.state);
  const startedAt = nanosToIso(s.started_at);
  const finishedAt = nanosToIso(s.finished_at);
  return {
    id: s.id,
    name: s.annotations[A_NAME] ?? s.metadata?.name ?? s.id,
    image: s.image?.image ?? '',
    imageRef: s.image_ref,
    labels: s.labels,
    state,
    exitCode: s.exit_code,
    error: state === 'exited' && !ORDINARY_REASONS.has(s.reason) ? s.message || s.reason : '',
    oomKilled: s.reason === 'OOMKilled',
    createdAt: nanosToIso(s.created_at) ?? new Date(0).toISOString(),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
  };
}

/** A sandbox seen as a container: ready = running, with the pod IP. */
export function sandboxInfo(s: PodSandboxStatus): ContainerInfo {
  const createdAt = nanosToIso(s.created_at) ?? new Date(0).toISOString();
  const ip = s.network?.ip ?? '';
  return {
    id: s.id,
    name: s.annotations[A_NAME] ?? s.metadata?.name ?? s.id,
    image: s.annotations[A_IMAGE] ?? '',
    imageRef: '',
    labels: s.labels,
    state: s.state === 'SANDBOX_READY' ? 'running' : 'exited',
    exitCode: 0,
    error: '',
    oomKilled: false,
    createdAt,
    ...(s.state === 'SANDBOX_READY' ? { startedAt: createdAt } : {}),
    ...(ip ? { ip } : {}),
  };
}
