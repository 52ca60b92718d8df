/**
 * edged's side of the container engines: the pod-level ContainerRuntime contract and its two adapters, which map
 * pods onto the Docker Engine API (sandbox container + joined namespaces) and onto CRI. The raw clients, the
 * endpoints and engine detection live in src/containers.
 */
import type { Logger } from '../../../core/log.ts';
import { DockerClient, detectEngine } from '../../../containers/index.ts';
import type { CriRuntimeOptions } from './cri/runtime.ts';
import { DockerRuntime } from './docker/runtime.ts';
import type { ContainerRuntime } from './types.ts';

export type { ContainerRuntime, ContainerInfo, ContainerSpec, SandboxSpec, RuntimeVersion } from './types.ts';
export { DockerRuntime } from './docker/runtime.ts';
export type { CriRuntimeOptions } from './cri/runtime.ts';

/**
 * Connects to the engine that answers at the endpoint (detectEngine: Docker Engine API or CRI; KubeEdge's containerd
 * default falls back to Docker when only Docker answers, said once in the log).
 */
export async function connectRuntime(endpoint: string, options: CriRuntimeOptions & { log?: Logger; dockerNetwork?: string } = {}): Promise<ContainerRuntime> {
  const { log, dockerNetwork, ...criOptions } = options;
  const engine = await detectEngine(endpoint);
  if (engine.endpoint !== endpoint) {
    log?.info({ configured: endpoint, using: engine.endpoint }, 'containerRuntimeEndpoint is the containerd default, but Docker answers; using Docker');
  }
  if (engine.kind === 'docker')
    return new DockerRuntime(new DockerClient({ endpoint: engine.endpoint }), dockerNetwork !== undefined ? { network: dockerNetwork } : {});
  // gRPC and the CRI schema load only for a CRI endpoint: a Docker edge does not carry them.
  const [{ CriRuntime }, { CriClient }] = await Promise.all([import('./cri/runtime.ts'), import('../../../containers/cri/index.ts')]);
  return new CriRuntime(new CriClient({ endpoint: engine.endpoint }), criOptions);
}
