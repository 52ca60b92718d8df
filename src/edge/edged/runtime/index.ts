export type { ContainerRuntime, ContainerInfo, ContainerSpec, SandboxSpec, RuntimeVersion } from './types.ts';
export { DockerError, RuntimeUnavailableError } from './errors.ts';
export { DockerClient } from './docker/client.ts';
export { DockerRuntime } from './docker/runtime.ts';
import { RuntimeUnavailableError } from './errors.ts';
import { DockerRuntime } from './docker/runtime.ts';
import type { ContainerRuntime } from './types.ts';

/**
 * Picks the runtime by talking to the endpoint: a Docker engine answers `/_ping` with OK. CRI endpoints
 * (containerd) are not implemented yet and fail with a clear message.
 */
export async function connectRuntime(endpoint: string): Promise<ContainerRuntime> {
  try {
    return await DockerRuntime.connect(endpoint);
  } catch (err) {
    if (err instanceof RuntimeUnavailableError && /containerd/.test(endpoint)) {
      throw new RuntimeUnavailableError(endpoint, 'CRI runtimes (containerd) are not supported yet; use unix:///var/run/docker.sock', { cause: err });
    }
    throw err;
  }
}
