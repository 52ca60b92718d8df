import { mkdirSync, rmSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { CriError, isNotFound, probeCri } from '../../../../containers/index.ts';
import type { ContainerInfo, ContainerRuntime, ContainerSpec, ExecResult, RuntimeVersion, SandboxSpec } from '../types.ts';
import {
  CriClient,
  type CriContainer,
  type CriContainerStatus,
  type CriImage,
  type ExecSyncResponse,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxStatus,
} from '../../../../containers/cri/index.ts';
import { CriStreaming } from './streams.ts';
import { A_LOG_DIRECTORY, containerConfig, containerInfo, podLogDirectory, sandboxConfig, sandboxConfigFromStatus, sandboxInfo } from './mapping.ts';

export type CriRuntimeOptions = {
  /** Where pod log directories go (kubelet's /var/log/pods); must be writable by us and by the runtime. */
  logRoot?: string;
  /** Deadline of one image pull. */
  pullTimeoutMs?: number;
};

type Kind = 'sandbox' | 'container';

/** containerd refuses a second sandbox/container with the same metadata until the first is removed. */
function isNameReserved(err: unknown): boolean {
  return err instanceof CriError && /failed to reserve (sandbox|container) name/.test(err.message);
}

/**
 * ContainerRuntime over the Kubernetes CRI (containerd). The interface speaks of "containers" for both pod
 * sandboxes and app containers, so ids are told apart by asking the runtime (and remembered).
 */
export class CriRuntime implements ContainerRuntime {
  readonly name = 'containerd';
  readonly client: CriClient;
  readonly logRoot: string;
  readonly streaming: CriStreaming;
  readonly #pullTimeoutMs: number;
  readonly #kinds = new Map<string, Kind>();

  constructor(client: CriClient, options: CriRuntimeOptions = {}) {
    this.client = client;
    this.logRoot = resolve(options.logRoot ?? '/var/log/pods');
    this.streaming = new CriStreaming(client);
    this.#pullTimeoutMs = options.pullTimeoutMs ?? 15 * 60_000;
  }

  get endpoint(): string {
    return this.client.endpoint;
  }

  /** Fails with RuntimeUnavailableError unless a CRI runtime.v1 RuntimeService answers Version on the endpoint. */
  static async connect(endpoint: string, options: CriRuntimeOptions & { timeoutMs?: number } = {}): Promise<CriRuntime> {
    await probeCri(endpoint, options.timeoutMs);
    return new CriRuntime(new CriClient({ endpoint }), options);
  }

  close(): void {
    this.client.close();
  }

  async version(): Promise<RuntimeVersion> {
    const v = await this.client.version();
    return { runtimeName: v.runtime_name, runtimeVersion: v.runtime_version, runtimeApiVersion: v.runtime_api_version };
  }

  async imageId(image: string): Promise<string | undefined> {
    const r = await this.client.callImage<{ image: CriImage | null }>('ImageStatus', { image: { image } });
    return r.image?.id || undefined;
  }

  async pullImage(image: string): Promise<void> {
    await this.client.callImage('PullImage', { image: { image } }, this.#pullTimeoutMs);
  }

  async runSandbox(spec: SandboxSpec): Promise<string> {
    const logDir = podLogDirectory(this.logRoot, spec.labels, spec.name);
    mkdirSync(logDir, { recursive: true, mode: 0o755 });
    const config = sandboxConfig(spec, logDir);
    const run = async (): Promise<string> => (await this.client.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, 4 * 60_000)).pod_sandbox_id;
    let id: string;
    try {
      id = await run();
    } catch (err) {
      if (!isNameReserved(err)) throw err;
      // A leftover of an interrupted earlier attempt holds the name: remove it and try once more.
      await this.#removeSandboxesLike(config);
      id = await run();
    }
    this.#kinds.set(id, 'sandbox');
    return id;
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const sandbox = await this.#sandboxStatus(spec.sandboxId);
    if (!sandbox) throw new CriError('CreateContainer', 5, `pod sandbox ${spec.sandboxId} not found`);
    const config = containerConfig(spec);
    const sandboxCfg = sandboxConfigFromStatus(sandbox);
    if (spec.privileged) sandboxCfg.linux.security_context.privileged = true;
    const req = { pod_sandbox_id: spec.sandboxId, config, sandbox_config: sandboxCfg };
    const create = async (): Promise<string> => (await this.client.call<{ container_id: string }>('CreateContainer', req, 4 * 60_000)).container_id;
    let id: string;
    try {
      id = await create();
    } catch (err) {
      if (!isNameReserved(err)) throw err;
      const same = await this.client.call<{ containers: CriContainer[] }>('ListContainers', { filter: { pod_sandbox_id: spec.sandboxId } });
      for (const c of same.containers) {
        if (c.metadata?.name === config.metadata.name && c.metadata.attempt === config.metadata.attempt) await this.removeContainer(c.id);
      }
      id = await create();
    }
    this.#kinds.set(id, 'container');
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.client.call('StartContainer', { container_id: id }, 4 * 60_000);
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    const timeout = Math.max(0, Math.ceil(graceSeconds));
    try {
      if ((await this.#kindOf(id)) === 'sandbox') await this.client.call('StopPodSandbox', { pod_sandbox_id: id }, 2 * 60_000);
      else await this.client.call('StopContainer', { container_id: id, timeout: String(timeout) }, (timeout + 60) * 1000);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    const kind = await this.#kindOf(id);
    try {
      if (kind === 'sandbox') {
        const status = await this.#sandboxStatus(id);
        // RemovePodSandbox needs the sandbox stopped (network torn down) first.
        await this.client.call('StopPodSandbox', { pod_sandbox_id: id }, 2 * 60_000);
        await this.client.call('RemovePodSandbox', { pod_sandbox_id: id }, 2 * 60_000);
        this.#removeLogDirectory(status?.annotations[A_LOG_DIRECTORY]);
      } else if (kind === 'container') {
        await this.client.call('RemoveContainer', { container_id: id }, 2 * 60_000);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#kinds.delete(id);
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    const kind = await this.#kindOf(id);
    if (kind === 'sandbox') {
      const s = await this.#sandboxStatus(id);
      return s ? sandboxInfo(s) : undefined;
    }
    if (kind === 'container') {
      const s = await this.#containerStatus(id);
      return s ? containerInfo(s) : undefined;
    }
    return undefined;
  }

  async list(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const filter = { label_selector: labels };
    const [sandboxes, containers] = await Promise.all([
      this.client.call<{ items: PodSandbox[] }>('ListPodSandbox', { filter }),
      this.client.call<{ containers: CriContainer[] }>('ListContainers', { filter }),
    ]);
    for (const s of sandboxes.items) this.#kinds.set(s.id, 'sandbox');
    for (const c of containers.containers) this.#kinds.set(c.id, 'container');
    const infos = await Promise.all([
      ...sandboxes.items.map(async (s) => {
        const st = await this.#sandboxStatus(s.id);
        return st ? sandboxInfo(st) : undefined;
      }),
      ...containers.containers.map(async (c) => {
        const st = await this.#containerStatus(c.id);
        return st ? containerInfo(st) : undefined;
      }),
    ]);
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const r = await this.client.call<ExecSyncResponse>('ExecSync', { container_id: id, cmd, timeout: String(seconds) }, timeoutMs + 10_000);
    return { exitCode: r.exit_code, stdout: Buffer.from(r.stdout).toString('utf8'), stderr: Buffer.from(r.stderr).toString('utf8') };
  }

  async #sandboxStatus(id: string): Promise<PodSandboxStatus | undefined> {
    try {
      return (await this.client.call<{ status: PodSandboxStatus | null }>('PodSandboxStatus', { pod_sandbox_id: id })).status ?? undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #containerStatus(id: string): Promise<CriContainerStatus | undefined> {
    try {
      return (await this.client.call<{ status: CriContainerStatus | null }>('ContainerStatus', { container_id: id })).status ?? undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sandbox or app container? Remembered once known; otherwise asked (ids are never shared between the two). */
  async #kindOf(id: string): Promise<Kind | undefined> {
    const known = this.#kinds.get(id);
    if (known) return known;
    let kind: Kind | undefined;
    if (await this.#containerStatus(id)) kind = 'container';
    else if (await this.#sandboxStatus(id)) kind = 'sandbox';
    if (kind) this.#kinds.set(id, kind);
    return kind;
  }

  async #removeSandboxesLike(config: PodSandboxConfig): Promise<void> {
    const { items } = await this.client.call<{ items: PodSandbox[] }>('ListPodSandbox', { filter: {} });
    const m = config.metadata;
    for (const s of items) {
      const sm = s.metadata;
      if (sm && sm.name === m.name && sm.namespace === m.namespace && sm.uid === m.uid && sm.attempt === m.attempt) {
        this.#kinds.set(s.id, 'sandbox');
        await this.removeContainer(s.id);
      }
    }
  }

  /** Only ever below our own log root: the path comes from an annotation. */
  #removeLogDirectory(dir: string | undefined): void {
    if (!dir) return;
    const abs = resolve(dir);
    if (!abs.startsWith(this.logRoot + sep)) return;
    rmSync(abs, { recursive: true, force: true });
  }
}
