import { podManagerConformance } from './pod-manager.conformance.ts';
import type { CriContainer, CriContainerStatus, PodSandbox } from '../../../../../src/containers/cri/index.ts';
import { CriRuntime } from '../../../../../src/edge/edged/runtime/cri/runtime.ts';
import { criSkip, readCriLog, startTestContainerd, type TestContainerd } from '../../../../helpers/containerd.ts';

/** The shared PodManager scenarios over CRI, against a private real containerd. */

let containerd: TestContainerd | undefined;
let runtime: CriRuntime | undefined;

async function status(id: string): Promise<{ status: CriContainerStatus; info: Record<string, string> }> {
  return runtime!.client.call('ContainerStatus', { container_id: id, verbose: true });
}

podManagerConformance({
  name: 'containerd (CRI)',
  idScheme: 'containerd',
  skip: await criSkip(),
  start: async () => {
    containerd = await startTestContainerd();
    runtime = await CriRuntime.connect(containerd.endpoint, { logRoot: containerd.logRoot });
    return runtime;
  },
  stop: async () => {
    runtime?.close();
    await containerd?.stop();
  },
  ps: async (labels) => {
    const filter = { label_selector: labels };
    const [s, c] = await Promise.all([
      runtime!.client.call<{ items: PodSandbox[] }>('ListPodSandbox', { filter }),
      runtime!.client.call<{ containers: CriContainer[] }>('ListContainers', { filter }),
    ]);
    return [...s.items.map((i) => i.id), ...c.containers.map((i) => i.id)];
  },
  kill: async (id) => {
    await containerd!.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
  },
  logs: async (id) => readCriLog((await status(id)).status.log_path),
  settings: async (id) => {
    // The verbose answer carries both the CRI config we sent and the OCI spec containerd made from it.
    const info = JSON.parse((await status(id)).info['info'] ?? '{}') as {
      config?: { linux?: { security_context?: { privileged?: boolean; capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[] } } } };
      runtimeSpec?: { linux?: { resources?: { cpu?: { quota?: number; period?: number }; memory?: { limit?: number } } } };
    };
    const sc = info.config?.linux?.security_context;
    const res = info.runtimeSpec?.linux?.resources;
    const cpu = res?.cpu;
    return {
      privileged: sc?.privileged === true,
      capAdd: sc?.capabilities?.add_capabilities ?? [],
      capDrop: sc?.capabilities?.drop_capabilities ?? [],
      nanoCpus: cpu?.quota && cpu.period ? Math.round((cpu.quota / cpu.period) * 1e9) : 0,
      memoryBytes: res?.memory?.limit ?? 0,
    };
  },
  removeAll: async (labels) => {
    if (!runtime) return;
    for (const info of await runtime.list(labels).catch(() => [])) await runtime.removeContainer(info.id).catch(() => undefined);
  },
});
