/**
 * What the pod manager needs from a container engine, in engine-neutral terms, so a CRI (containerd) runtime can
 * be added beside Docker without touching the pod logic. Containers and sandboxes are identified by the
 * runtime's own ids; labels are the only durable memory a runtime gives us across edgecore restarts.
 */

export type PortMapping = {
  containerPort: number;
  hostPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
};

export type SandboxSpec = {
  /** Unique, stable for one attempt of one pod (engines reject duplicates, which guards double starts). */
  name: string;
  image: string;
  labels: Record<string, string>;
  hostname?: string;
  hostNetwork: boolean;
  portMappings: PortMapping[];
  /** Some container of the pod is privileged (CRI runtimes refuse privileged containers in an unprivileged sandbox). */
  privileged?: boolean;
  /** The pod's resolvers (dnsPolicy); undefined = the engine's defaults (the node's resolv.conf). */
  dns?: { servers: string[]; searches: string[]; options: string[] };
};

export type Mount = {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
};

export type ContainerSpec = {
  name: string;
  image: string;
  labels: Record<string, string>;
  sandboxId: string;
  hostNetwork: boolean;
  /** Kubernetes `command` (replaces the image entrypoint) and `args` (replace the image cmd). */
  command?: string[];
  args?: string[];
  env: Array<{ name: string; value: string }>;
  workingDir?: string;
  mounts: Mount[];
  user?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  nanoCpus?: number;
  memoryBytes?: number;
  tty?: boolean;
  stdin?: boolean;
};

export type ContainerStateName = 'created' | 'running' | 'exited' | 'unknown';

export type ContainerInfo = {
  id: string;
  name: string;
  image: string;
  /** The engine's image id (sha256:...). */
  imageRef: string;
  labels: Record<string, string>;
  state: ContainerStateName;
  exitCode: number;
  /** Engine-reported reason a container could not run (e.g. an OCI error on start); '' when none. */
  error: string;
  oomKilled: boolean;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The IP on the default network, for sandboxes. */
  ip?: string;
};

export type ExecResult = {
  exitCode: number;
  stdout: string;
  stderr: string;
};

export type RuntimeVersion = {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
};

export type ContainerRuntime = {
  readonly name: string;
  /** The endpoint, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  version(): Promise<RuntimeVersion>;
  /** undefined when the image is not present locally. */
  imageId(image: string): Promise<string | undefined>;
  pullImage(image: string): Promise<void>;
  /** Creates and starts a sandbox; returns its id. */
  runSandbox(spec: SandboxSpec): Promise<string>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Polite signal, then a forced kill after `graceSeconds`. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Removes a container, forcibly; a container that is already gone is not an error. */
  removeContainer(id: string): Promise<void>;
  /** undefined when the container does not exist. */
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** All containers (running or not) carrying every one of the given labels. */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** Optional push notification when a container with the label changes state; polling still runs. */
  watch?(label: string, onChange: (id: string) => void): { close(): void };
};
