import type { Logger } from '../../core/log.ts';
import { connectRuntime, type ContainerRuntime } from './runtime/index.ts';

/** KubeEdge's default `containerRuntimeEndpoint`. */
export const KUBEEDGE_DEFAULT_ENDPOINT = 'unix:///run/containerd/containerd.sock';
export const DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';

/**
 * Connects to the configured engine. A config that leaves KubeEdge's containerd default in place on a host whose
 * engine is Docker gets Docker, said once in the log: the default names a runtime, not a requirement.
 */
export async function resolveRuntime(endpoint: string, log: Logger): Promise<{ runtime: ContainerRuntime; endpoint: string }> {
  try {
    return { runtime: await connectRuntime(endpoint), endpoint };
  } catch (err) {
    if (endpoint !== KUBEEDGE_DEFAULT_ENDPOINT) throw err;
    try {
      const runtime = await connectRuntime(DOCKER_ENDPOINT);
      log.info({ configured: endpoint, using: DOCKER_ENDPOINT }, 'containerRuntimeEndpoint is the containerd default, but Docker answers; using Docker');
      return { runtime, endpoint: DOCKER_ENDPOINT };
    } catch {
      throw err;
    }
  }
}
