import { describeError } from '../core/errors.ts';
import { DockerClient } from './docker/client.ts';
import { DOCKER_ENDPOINT, KUBEEDGE_DEFAULT_ENDPOINT } from './endpoints.ts';
import { RuntimeUnavailableError } from './errors.ts';

export type EngineKind = 'docker' | 'cri';

/** What answered at an endpoint. */
export type EngineFacts = {
  kind: EngineKind;
  /** Where it answered: the configured endpoint, or Docker's socket when KubeEdge's default fell back to it. */
  endpoint: string;
  /** The endpoint that was asked for. */
  configured: string;
  /** `docker`, or the CRI runtime's own name (`containerd`). */
  name: string;
  version: string;
  /** Docker Engine API version, or the CRI version (`v1`). */
  apiVersion: string;
};

const PROBE_TIMEOUT_MS = 5000;

function unavailable(endpoint: string, err: unknown): RuntimeUnavailableError {
  if (err instanceof RuntimeUnavailableError) return err;
  return new RuntimeUnavailableError(endpoint, describeError(err), { cause: err });
}

/** A Docker engine answers `/_ping` with OK; rejects with RuntimeUnavailableError otherwise. */
export async function probeDocker(endpoint: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<EngineFacts> {
  try {
    const client = new DockerClient({ endpoint, timeoutMs });
    const pong = await client.ping();
    if (pong.trim() !== 'OK') throw new RuntimeUnavailableError(endpoint, `unexpected ping answer ${JSON.stringify(pong.slice(0, 80))}`);
    const v = await client.version();
    return { kind: 'docker', endpoint, configured: endpoint, name: 'docker', version: v.Version, apiVersion: v.ApiVersion };
  } catch (err) {
    throw unavailable(endpoint, err);
  }
}

/**
 * A CRI runtime answers `runtime.v1.RuntimeService/Version`; rejects with RuntimeUnavailableError otherwise.
 * gRPC and the CRI schema load only here, so a Docker edge does not carry them.
 */
export async function probeCri(endpoint: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<EngineFacts> {
  let client: import('./cri/client.ts').CriClient | undefined;
  try {
    const { CriClient } = await import('./cri/client.ts');
    client = new CriClient({ endpoint });
    const v = await client.version(timeoutMs);
    return { kind: 'cri', endpoint, configured: endpoint, name: v.runtime_name, version: v.runtime_version, apiVersion: v.runtime_api_version };
  } catch (err) {
    if (err instanceof RuntimeUnavailableError) throw err;
    throw new RuntimeUnavailableError(endpoint, `not a CRI runtime.v1 endpoint: ${describeError(err)}`, { cause: err });
  } finally {
    client?.close();
  }
}

function reason(err: unknown): string {
  return describeError(err).replace(/^container runtime at \S+ is unavailable: /, '');
}

/**
 * Which engine answers at `endpoint`: the Docker Engine API or CRI (both probes fail fast on the other kind of
 * socket). KubeEdge's default (`unix:///run/containerd/containerd.sock`) left in place on a host where only Docker
 * answers gets Docker: a file that never named an endpoint asked for no engine in particular, and such edges run
 * on Docker. `fallback: false` turns that off. This is the one place that picks an engine; edged, the start-up
 * checks and keadm doctor all ask it.
 */
export async function detectEngine(endpoint: string, o: { timeoutMs?: number; fallback?: boolean } = {}): Promise<EngineFacts> {
  const timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
  let dockerErr: unknown;
  try {
    return await probeDocker(endpoint, timeoutMs);
  } catch (err) {
    dockerErr = err;
  }
  let criErr: unknown;
  try {
    return await probeCri(endpoint, timeoutMs);
  } catch (err) {
    criErr = err;
  }
  if ((o.fallback ?? true) && endpoint === KUBEEDGE_DEFAULT_ENDPOINT) {
    try {
      return { ...(await probeDocker(DOCKER_ENDPOINT, timeoutMs)), configured: endpoint };
    } catch {
      /* report the configured endpoint */
    }
  }
  throw new RuntimeUnavailableError(endpoint, `neither a Docker engine (${reason(dockerErr)}) nor a CRI runtime (${reason(criErr)}) answers`, {
    cause: criErr,
  });
}

/** One phrase for logs and check lines: `Docker 24.0.7, API 1.43` / `containerd 1.6.20, CRI v1`. */
export function describeEngine(f: EngineFacts): string {
  return f.kind === 'docker' ? `Docker ${f.version}, API ${f.apiVersion}` : `${f.name} ${f.version}, CRI ${f.apiVersion}`;
}
