import { existsSync, statSync } from 'node:fs';
import { describeError } from '../../core/errors.ts';
import { DOCKER_ENDPOINT, describeEngine, detectEngine, socketPathOf, type EngineFacts, type EngineKind } from '../../containers/index.ts';
import { fail, ok, type CheckResult } from './types.ts';

const NAME = 'engine socket';

function mountFix(socket: string): string {
  return `start the engine (containerd or Docker), or mount the host's socket at the same path (-v ${socket}:${socket}), or set modules.edged.tailoredKubeletConfig.containerRuntimeEndpoint to the engine's socket`;
}

/** Docker's containerd package ships with `disabled_plugins = ["cri"]`: a containerd socket that answers nothing else. */
const NOT_ANSWERING_FIX =
  'point containerRuntimeEndpoint at a Docker engine or a CRI runtime; for containerd, enable its CRI plugin (remove "cri" from disabled_plugins in /etc/containerd/config.toml) and restart it';

/**
 * The container engine edged will use: the Docker Engine API or a CRI runtime (CRI Version), found the way edged
 * finds it (detectEngine). KubeEdge's containerd default on a Docker-only host falls back to Docker, as edged does,
 * so that case is fine. `want` narrows the engines that serve (keadm drives Docker only).
 */
export async function checkEngineSocket(endpoint: string, o: { want?: EngineKind } = {}): Promise<{ result: CheckResult; engine?: EngineFacts }> {
  let socket: string;
  try {
    socket = socketPathOf(endpoint);
  } catch (err) {
    return {
      result: fail(NAME, `${endpoint}: ${describeError(err)}`, `use a unix:// endpoint such as unix:///run/containerd/containerd.sock or ${DOCKER_ENDPOINT}`),
    };
  }
  let engine: EngineFacts;
  try {
    engine = await detectEngine(endpoint, o.want === 'cri' ? { fallback: false } : {});
  } catch (err) {
    if (!existsSync(socket)) return { result: fail(NAME, `${socket} does not exist`, mountFix(socket)) };
    if (!statSync(socket).isSocket())
      return { result: fail(NAME, `${socket} exists but is not a socket (a bind mount of a missing path creates a directory)`, mountFix(socket)) };
    return { result: fail(NAME, `${endpoint} answers neither the Docker Engine API nor CRI: ${describeError(err)}`, NOT_ANSWERING_FIX) };
  }
  if (o.want !== undefined && engine.kind !== o.want) {
    const needed = o.want === 'docker' ? 'the Docker Engine API' : 'CRI';
    return {
      result: fail(NAME, `${engine.endpoint} is ${describeEngine(engine)}, but this needs ${needed}`, `pass the socket of an engine that speaks ${needed}`),
    };
  }
  if (engine.endpoint !== endpoint) {
    return {
      result: ok(NAME, `${endpoint} is KubeEdge's containerd default; Docker answers on ${engine.endpoint} (${describeEngine(engine)}) and edged uses it`),
      engine,
    };
  }
  return { result: ok(NAME, `${endpoint} answers (${describeEngine(engine)})`), engine };
}
