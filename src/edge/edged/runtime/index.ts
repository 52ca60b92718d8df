export type { ContainerRuntime, ContainerInfo, ContainerSpec, SandboxSpec, RuntimeVersion } from './types.ts';
export { DockerError, RuntimeUnavailableError } from './errors.ts';
export { DockerClient } from './docker/client.ts';
export { DockerRuntime } from './docker/runtime.ts';
export type { CriRuntimeOptions } from './cri/runtime.ts';
import { describeError } from '../../../core/errors.ts';
import type { CriRuntimeOptions } from './cri/runtime.ts';
import { RuntimeUnavailableError } from './errors.ts';
import { DockerRuntime } from './docker/runtime.ts';
import type { ContainerRuntime } from './types.ts';

/**
 * Picks the runtime by talking to the endpoint: a Docker engine answers `/_ping` with OK; a CRI runtime
 * (containerd, as KubeEdge's default `unix:///run/containerd/containerd.sock`) answers the gRPC
 * `runtime.v1.RuntimeService/Version`. Both probes fail fast on the other kind of socket.
 */
export async function connectRuntime(endpoint: string, options: CriRuntimeOptions = {}): Promise<ContainerRuntime> {
  let dockerErr: unknown;
  try {
    return await DockerRuntime.connect(endpoint);
  } catch (err) {
    if (!(err instanceof RuntimeUnavailableError)) throw err;
    dockerErr = err;
  }
  try {
    // gRPC and the CRI schema load only for a CRI endpoint: a Docker edge does not carry them.
    const { CriRuntime } = await import('./cri/runtime.ts');
    return await CriRuntime.connect(endpoint, options);
  } catch (criErr) {
    throw new RuntimeUnavailableError(endpoint, `neither a Docker engine (${reason(dockerErr)}) nor a CRI runtime (${reason(criErr)}) answers`, {
      cause: criErr,
    });
  }
}

function reason(err: unknown): string {
  return describeError(err).replace(/^container runtime at \S+ is unavailable: /, '');
}
