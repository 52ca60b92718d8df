import { DockerRuntime } from '../../../../../src/edge/edged/runtime/docker/runtime.ts';
import { DOCKER_ENDPOINT, dockerPs, dockerSkip, ensureTestImages } from '../../../../helpers/docker.ts';
import { podManagerConformance } from './pod-manager.conformance.ts';

let runtime: DockerRuntime | undefined;
const filters = (labels: Record<string, string>): string[] => Object.entries(labels).map(([k, v]) => `label=${k}=${v}`);

podManagerConformance({
  name: 'dockerd',
  idScheme: 'docker',
  skip: await dockerSkip(),
  start: async () => {
    await ensureTestImages();
    runtime = await DockerRuntime.connect(DOCKER_ENDPOINT);
    return runtime;
  },
  stop: async () => undefined,
  ps: (labels) => dockerPs(filters(labels)),
  kill: async (id) => {
    await runtime?.client.killContainer(id, 'SIGKILL');
  },
  logs: async (id) => (await runtime!.client.containerLogs(id)).stdout,
  settings: async (id) => {
    const h = (await runtime!.client.inspectContainer(id)).HostConfig;
    return { privileged: h.Privileged === true, capAdd: h.CapAdd ?? [], capDrop: h.CapDrop ?? [], nanoCpus: h.NanoCpus ?? 0, memoryBytes: h.Memory ?? 0 };
  },
  removeAll: async (labels) => {
    const client = runtime!.client;
    const list = await client.listContainers({ all: true, labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    await Promise.all(list.map((c) => client.removeContainer(c.Id, { force: true, volumes: true }).catch(() => undefined)));
  },
});
