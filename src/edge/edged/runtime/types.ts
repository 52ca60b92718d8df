/**
 * What the pod manager needs from a container engine, in engine-neutral terms, so a CRI (containerd) runtime can
 * be added beside Docker without touching the pod logic. Containers and sandboxes are identified by the
 * runtime's own ids; labels are the only durable memory a runtime gives us across edgecore restarts.
 */

import type { ContainerReading } from '../stats/types.ts';

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

/** What `kubectl logs` asks for (the kubelet's containerLogs query), engine-neutral. */
export type LogOptions = {
  follow: boolean;
  tailLines?: number;
  /** Only lines written at or after this instant. */
  since?: Date;
  timestamps: boolean;
};

export type TerminalSize = { width: number; height: number };

/**
 * The client's side of an exec or attach: the streams it asked for, and terminal size changes (a 'resize' event
 * with a TerminalSize). stderr is absent with a TTY (the engine merges it into stdout).
 */
export type StreamIO = {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty: boolean;
  /** Emits 'resize'; `last` is a size that came before the runtime listened. */
  resize?: NodeJS.EventEmitter & { last?: TerminalSize | undefined };
  /** Aborted when the client went away: the engine side is torn down. */
  signal: AbortSignal;
};

export type StreamFlags = { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean };

/**
 * Streaming calls of the kubelet API. Docker serves them in-process (edged translates the client's protocol to
 * the engine's hijacked connection); a CRI runtime hands out a URL on its own streaming server instead
 * (`streamUrl`), which edged proxies the client's upgrade to unchanged.
 */
export type StreamingRuntime = {
  /** Writes the container's log to `out` until done (or, following, until it stops or `signal` aborts). */
  logs(id: string, o: LogOptions, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void>;
  /** Runs `cmd` in the container attached to `io`; resolves with its exit code. */
  execStream?(id: string, cmd: string[], io: StreamIO): Promise<number>;
  /** Attaches `io` to the container's own stdio; resolves when either side ends. */
  attachStream?(id: string, io: StreamIO): Promise<void>;
  /** CRI Exec / Attach / PortForward: the runtime streaming server's URL for this one request. */
  streamUrl?(
    req:
      | { kind: 'exec'; id: string; cmd: string[]; flags: StreamFlags }
      | { kind: 'attach'; id: string; flags: StreamFlags }
      | { kind: 'portforward'; sandboxId: string },
  ): Promise<string>;
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
  /** Usage readings of running containers (engine stats); a container that is gone is left out. */
  containerStats?(ids: string[]): Promise<ContainerReading[]>;
  /** All containers (running or not) carrying every one of the given labels. */
  list(labels: Record<string, string>): Promise<ContainerInfo[]>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** Optional push notification when a container with the label changes state; polling still runs. */
  watch?(label: string, onChange: (id: string) => void): { close(): void };
  /** The kubelet API's streaming calls (logs, exec, attach); absent on runtimes that have none. */
  readonly streaming?: StreamingRuntime;
};
