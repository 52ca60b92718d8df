import { existsSync, statSync } from 'node:fs';
import { describeError } from '../../core/errors.ts';
import { DockerClient, socketPathOf } from '../edged/runtime/docker/client.ts';
import { fail, ok, type CheckResult } from './types.ts';

export const KUBEEDGE_DEFAULT_ENDPOINT = 'unix:///run/containerd/containerd.sock';
export const DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';
const NAME = 'engine socket';

export type EngineFacts = { endpoint: string; version: string; apiVersion: string };

/** Pings the Docker Engine API on `endpoint`; resolves with its version or rejects with why not. */
export async function probeEngine(endpoint: string): Promise<EngineFacts> {
  const client = new DockerClient({ endpoint, timeoutMs: 5000 });
  await client.ping();
  const v = await client.version();
  return { endpoint, version: v.Version, apiVersion: v.ApiVersion };
}

function mountFix(socket: string): string {
  return `start the engine, or mount the host's socket at the same path (docker run -v ${socket}:${socket}), or set modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint to the engine's socket`;
}

/**
 * The container engine edged will use. KubeEdge's containerd default on a Docker host falls back to Docker,
 * as edged itself does, so that case is fine.
 */
export async function checkEngineSocket(endpoint: string): Promise<{ result: CheckResult; engine?: EngineFacts }> {
  let socket: string;
  try {
    socket = socketPathOf(endpoint);
  } catch (err) {
    return { result: fail(NAME, `${endpoint}: ${describeError(err)}`, 'use a unix:// endpoint such as unix:///var/run/docker.sock') };
  }
  try {
    const engine = await probeEngine(endpoint);
    return { result: ok(NAME, `${endpoint} answers (Docker ${engine.version}, API ${engine.apiVersion})`), engine };
  } catch (err) {
    if (endpoint === KUBEEDGE_DEFAULT_ENDPOINT) {
      try {
        const engine = await probeEngine(DOCKER_ENDPOINT);
        return {
          result: ok(
            NAME,
            `${endpoint} is KubeEdge's containerd default; Docker answers on ${DOCKER_ENDPOINT} (Docker ${engine.version}, API ${engine.apiVersion}) and edged uses it`,
          ),
          engine,
        };
      } catch {
        /* report the configured endpoint below */
      }
    }
    if (!existsSync(socket)) return { result: fail(NAME, `${socket} does not exist`, mountFix(socket)) };
    if (!statSync(socket).isSocket())
      return { result: fail(NAME, `${socket} exists but is not a socket (a bind mount of a missing path creates a directory)`, mountFix(socket)) };
    return { result: fail(NAME, `${endpoint} does not answer the Docker Engine API: ${describeError(err)}`, mountFix(socket)) };
  }
}
