/** The subset of Docker Engine API 1.41 shapes we read or write. Docker spells fields in PascalCase. */

export type PortBinding = {
  HostIp?: string;
  HostPort: string;
};

export type HostConfig = {
  NetworkMode?: string;
  IpcMode?: string;
  PidMode?: string;
  PortBindings?: Record<string, PortBinding[]>;
  Binds?: string[];
  NanoCpus?: number;
  Memory?: number;
  CapAdd?: string[];
  CapDrop?: string[];
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  RestartPolicy?: { Name: string; MaximumRetryCount?: number };
  ExtraHosts?: string[];
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ShmSize?: number;
};

export type ContainerConfig = {
  Image: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  Hostname?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  HostConfig?: HostConfig;
};

export type ContainerState = {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
};

export type ContainerInspect = {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: ContainerState;
  Config: ContainerConfig & { Labels: Record<string, string> | null };
  HostConfig: HostConfig;
  NetworkSettings: {
    IPAddress: string;
    Networks?: Record<string, { IPAddress: string; Gateway?: string }>;
  };
};

export type ContainerSummary = {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  Created: number;
};

export type ImageInspect = {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Labels?: Record<string, string> | null } | null;
};

export type ExecInspect = {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
};
