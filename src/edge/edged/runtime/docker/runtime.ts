import {
  DockerClient,
  DockerError,
  isNotFound,
  probeDocker,
  DOCKER_ENDPOINT,
  type ContainerConfig,
  type ContainerInspect,
  type PortBinding,
} from '../../../../containers/index.ts';
import { parseDockerStats } from '../../stats/docker-stats.ts';
import type { ContainerReading } from '../../stats/types.ts';
import type { ContainerInfo, ContainerRuntime, ContainerSpec, ExecResult, RuntimeVersion, SandboxSpec } from '../types.ts';
import { DockerStreaming } from './streams.ts';

/** ContainerRuntime over the Docker Engine API: a pod is a sandbox container whose namespaces the others join. */
export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  readonly client: DockerClient;
  /** The Docker network sandboxes join (`modules.edged.dockerNetwork`); app containers share the sandbox's. */
  readonly #network: string;
  readonly streaming: DockerStreaming;

  constructor(client: DockerClient, o: { network?: string } = {}) {
    this.client = client;
    this.#network = o.network ?? 'bridge';
    this.streaming = new DockerStreaming(client);
  }

  get endpoint(): string {
    return this.client.endpoint;
  }

  /** Talks to the endpoint and fails with RuntimeUnavailableError unless a Docker engine answers. */
  static async connect(endpoint = DOCKER_ENDPOINT): Promise<DockerRuntime> {
    await probeDocker(endpoint);
    return new DockerRuntime(new DockerClient({ endpoint }));
  }

  async version(): Promise<RuntimeVersion> {
    const v = await this.client.version();
    return { runtimeName: 'docker', runtimeVersion: v.Version, runtimeApiVersion: v.ApiVersion };
  }

  async imageId(image: string): Promise<string | undefined> {
    try {
      return (await this.client.inspectImage(image)).Id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  pullImage(image: string): Promise<void> {
    return this.client.pullImage(image);
  }

  async runSandbox(spec: SandboxSpec): Promise<string> {
    const bindings: Record<string, PortBinding[]> = {};
    const exposed: Record<string, Record<string, never>> = {};
    for (const p of spec.portMappings) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) });
    }
    const config: ContainerConfig = {
      Image: spec.image,
      Labels: spec.labels,
      ...(spec.hostname !== undefined && !spec.hostNetwork ? { Hostname: spec.hostname } : {}),
      ExposedPorts: exposed,
      HostConfig: {
        // 'shareable' so that app containers may join the IPC namespace (the daemon default may be private).
        IpcMode: 'shareable',
        NetworkMode: spec.hostNetwork ? 'host' : this.#network,
        ...(spec.hostNetwork ? {} : { PortBindings: bindings }),
        // The app containers join this one's network namespace and so share the resolv.conf Docker writes here.
        ...(spec.dns === undefined ? {} : { Dns: spec.dns.servers, DnsSearch: spec.dns.searches, DnsOptions: spec.dns.options }),
        RestartPolicy: { Name: 'no' },
      },
    };
    const { Id } = await this.client.createContainer(spec.name, config);
    try {
      await this.client.startContainer(Id);
    } catch (err) {
      await this.removeContainer(Id).catch(() => undefined);
      throw err;
    }
    return Id;
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const join = `container:${spec.sandboxId}`;
    const config: ContainerConfig = {
      Image: spec.image,
      Labels: spec.labels,
      Env: spec.env.map((e) => `${e.name}=${e.value}`),
      ...(spec.command !== undefined ? { Entrypoint: spec.command } : {}),
      // Kubernetes: `command` without `args` drops the image's CMD too.
      ...(spec.args !== undefined ? { Cmd: spec.args } : spec.command !== undefined ? { Cmd: [] } : {}),
      ...(spec.workingDir !== undefined ? { WorkingDir: spec.workingDir } : {}),
      ...(spec.user !== undefined ? { User: spec.user } : {}),
      Tty: spec.tty ?? false,
      OpenStdin: spec.stdin ?? false,
      HostConfig: {
        NetworkMode: spec.hostNetwork ? 'host' : join,
        IpcMode: join,
        Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
        ...(spec.capAdd?.length ? { CapAdd: spec.capAdd } : {}),
        ...(spec.capDrop?.length ? { CapDrop: spec.capDrop } : {}),
        ...(spec.privileged ? { Privileged: true } : {}),
        ...(spec.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
        ...(spec.nanoCpus ? { NanoCpus: spec.nanoCpus } : {}),
        ...(spec.memoryBytes ? { Memory: spec.memoryBytes } : {}),
        RestartPolicy: { Name: 'no' },
      },
    };
    return (await this.client.createContainer(spec.name, config)).Id;
  }

  startContainer(id: string): Promise<void> {
    return this.client.startContainer(id);
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.client.stopContainer(id, Math.max(0, Math.ceil(graceSeconds)));
    } catch (err) {
      // 304 = already stopped; 404 = already gone. Both mean the goal is reached.
      if (err instanceof DockerError && (err.statusCode === 304 || err.statusCode === 404)) return;
      throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.client.removeContainer(id, { force: true, volumes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      // 409 "removal already in progress" also reaches the goal.
      if (err instanceof DockerError && err.statusCode === 409 && /already in progress/.test(err.message)) return;
      throw err;
    }
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    try {
      return toInfo(await this.client.inspectContainer(id));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async containerStats(ids: string[]): Promise<ContainerReading[]> {
    const readings = await Promise.all(
      ids.map((id) =>
        this.client.containerStats(id).then(
          (s) => parseDockerStats(id, s),
          (err: unknown) => {
            if (isNotFound(err)) return undefined;
            throw err;
          },
        ),
      ),
    );
    return readings.filter((r): r is ContainerReading => r !== undefined);
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const summaries = await this.client.listContainers({ all: true, labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const infos = await Promise.all(summaries.map((s) => this.inspect(s.Id)));
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const execId = await this.client.execCreate(id, cmd);
    const out = await this.client.execStart(execId, timeoutMs);
    const inspected = await this.client.execInspect(execId);
    return { exitCode: inspected.ExitCode ?? -1, ...out };
  }

  watch(label: string, onChange: (id: string) => void): { close(): void } {
    let stream: { close(): void } | undefined;
    let closed = false;
    const open = (): void => {
      stream = this.client.events(
        { type: ['container'], label: [label], event: ['die', 'start', 'destroy', 'oom'] },
        (e) => {
          const id = e['id'];
          if (typeof id === 'string') onChange(id);
        },
        () => {
          // The stream ended (daemon restart); re-open after a pause. Polling covers the gap.
          if (!closed)
            setTimeout(() => {
              if (!closed) open();
            }, 2000).unref();
        },
      );
    };
    open();
    return {
      close: () => {
        closed = true;
        stream?.close();
      },
    };
  }
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function toInfo(c: ContainerInspect): ContainerInfo {
  const s = c.State;
  // A failed start leaves a 'created' container with an Error and exit code 128: it ran and failed, to us.
  const state =
    s.Running || s.Restarting || s.Paused
      ? 'running'
      : s.Status === 'created' && !s.Error
        ? 'created'
        : s.Status === 'created'
          ? 'exited'
          : s.Status === 'exited' || s.Status === 'dead'
            ? 'exited'
            : 'unknown';
  const nets = c.NetworkSettings?.Networks ?? {};
  const ip = c.NetworkSettings?.IPAddress || nets['bridge']?.IPAddress || Object.values(nets).find((n) => n.IPAddress)?.IPAddress || '';
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    imageRef: c.Image,
    labels: c.Config.Labels ?? {},
    state,
    exitCode: s.ExitCode,
    error: s.Error ?? '',
    oomKilled: s.OOMKilled,
    createdAt: c.Created,
    ...(s.StartedAt && !s.StartedAt.startsWith('0001-') ? { startedAt: s.StartedAt } : {}),
    ...(s.FinishedAt && s.FinishedAt !== ZERO_TIME && !s.FinishedAt.startsWith('0001-') ? { finishedAt: s.FinishedAt } : {}),
    ...(ip ? { ip } : {}),
  };
}
