/**
 * TypeScript shapes of the CRI messages we send and read, as proto-loader decodes them (keepCase, int64 as
 * decimal strings, enums as their names, unset scalars as defaults, unset messages as null).
 */

export type Int64 = string;

export type VersionResponse = {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
};

export type PodSandboxMetadata = {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
};

export type ContainerMetadata = {
  name: string;
  attempt: number;
};

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export type NamespaceOption = {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
};

export type CriPortMapping = {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  container_port: number;
  host_port: number;
  host_ip: string;
};

export type PodSandboxConfig = {
  metadata: PodSandboxMetadata;
  hostname: string;
  log_directory: string;
  port_mappings: CriPortMapping[];
  dns_config?: { servers: string[]; searches: string[]; options: string[] };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroup_parent?: string;
    security_context: { namespace_options: NamespaceOption; privileged?: boolean };
  };
};

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export type PodSandboxStatus = {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  network: { ip: string } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};

export type PodSandbox = {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};

export type CriMount = {
  container_path: string;
  host_path: string;
  readonly: boolean;
};

export type LinuxContainerResources = {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
};

export type LinuxContainerSecurityContext = {
  capabilities?: { add_capabilities: string[]; drop_capabilities: string[] };
  privileged?: boolean;
  namespace_options: NamespaceOption;
  run_as_user?: { value: Int64 };
  run_as_username?: string;
  run_as_group?: { value: Int64 };
  readonly_rootfs?: boolean;
};

export type ContainerConfig = {
  metadata: ContainerMetadata;
  image: { image: string };
  command: string[];
  args: string[];
  working_dir: string;
  envs: Array<{ key: string; value: string }>;
  mounts: CriMount[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
  stdin: boolean;
  tty: boolean;
  linux: { resources: LinuxContainerResources; security_context: LinuxContainerSecurityContext };
};

export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export type CriContainer = {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata | null;
  state: CriContainerState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};

export type CriContainerStatus = {
  id: string;
  metadata: ContainerMetadata | null;
  state: CriContainerState;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  exit_code: number;
  image: { image: string } | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
};

export type ExecSyncResponse = {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
};

export type CriImage = {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: Int64;
};
