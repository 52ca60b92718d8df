/**
 * TypeScript shapes of the CRI messages we send and read, as proto-loader decodes them (keepCase, int64 as
 * decimal strings, enums as their names, unset scalars as defaults, unset messages as null).
 */

export type Int64 = string;

export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface NamespaceOption {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
}

export interface CriPortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  container_port: number;
  host_port: number;
  host_ip: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname: string;
  log_directory: string;
  port_mappings: CriPortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroup_parent?: string;
    security_context: { namespace_options: NamespaceOption; privileged?: boolean };
  };
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  network: { ip: string } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriMount {
  container_path: string;
  host_path: string;
  readonly: boolean;
}

export interface LinuxContainerResources {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
}

export interface LinuxContainerSecurityContext {
  capabilities?: { add_capabilities: string[]; drop_capabilities: string[] };
  privileged?: boolean;
  namespace_options: NamespaceOption;
  run_as_user?: { value: Int64 };
  run_as_username?: string;
  run_as_group?: { value: Int64 };
  readonly_rootfs?: boolean;
}

export interface ContainerConfig {
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
}

export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface CriContainer {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata | null;
  state: CriContainerState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriContainerStatus {
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
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

export interface CriImage {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: Int64;
}
