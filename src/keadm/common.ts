/**
 * What init, join, up and reset share: how our containers, volumes and directories are named and labelled,
 * so reset finds exactly what we made (and several instances can live on one engine, e.g. parallel tests).
 */
import { KubeEdgeError } from '../core/errors.ts';
import { DOCKER_ENDPOINT, DockerClient } from '../containers/index.ts';

export const ROLE_LABEL = 'io.kubeedge-ts.role';
export const INSTANCE_LABEL = 'io.kubeedge-ts.instance';
/** On our edgecore containers. Not `io.kubeedge-ts.node`: edged labels its pod containers with that. */
export const NODE_LABEL = 'io.kubeedge-ts.edge-node';
/** edged's label on the pod containers it starts (value: the node name). */
export const POD_NODE_LABEL = 'io.kubeedge-ts.node';
/** Host directories holding this container's state, comma-separated: reset deletes them unless --keep-data. */
export const STATE_LABEL = 'io.kubeedge-ts.state-dirs';
/** The pod volume root of an edge container: reset finds pod containers through their pod UIDs there. */
export const POD_ROOT_LABEL = 'io.kubeedge-ts.pod-root';
export const DEFAULT_INSTANCE = 'default';

/** Exit codes keadm documents: 0 done, 1 failed, 2 usage error, 3 refused (exists already, or needs --force). */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export class KeadmError extends KubeEdgeError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failed, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_KEADM', message, context, cause === undefined ? {} : { cause });
    this.exitCode = exitCode;
  }
}

function prefix(instance: string): string {
  return instance === DEFAULT_INSTANCE ? '' : `${instance}-`;
}
export const cloudContainerName = (instance: string) => `${prefix(instance)}cloudcore`;
export const edgeContainerName = (instance: string, node: string) => `${prefix(instance)}edgecore-${node}`;
export const cloudVolumeName = (instance: string) => `${prefix(instance)}kubeedge-cloud-data`;

export function validateInstance(instance: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(instance))
    throw new KeadmError(`--instance must be lowercase letters, digits and '-', got ${JSON.stringify(instance)}`, EXIT.usage);
  return instance;
}

export function docker(endpoint: string = DOCKER_ENDPOINT): DockerClient {
  return new DockerClient({ endpoint });
}

/** Fails early, with the fix, when the engine does not answer: every command below needs it. */
export async function requireEngine(c: DockerClient): Promise<string> {
  try {
    await c.ping();
    const v = await c.version();
    return `Docker ${v.Version} (API ${v.ApiVersion})`;
  } catch (err) {
    throw new KeadmError(
      `no container engine answers at ${c.endpoint}: ${err instanceof Error ? err.message : String(err)} (fix: start Docker, or pass --runtime-endpoint)`,
      EXIT.failed,
      { endpoint: c.endpoint },
      err,
    );
  }
}

export type Out = (line: string) => void;
export const stdoutLine: Out = (l) => process.stdout.write(`${l}\n`);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The engine's "name in use" conflict, turned into our refusal with the way out. */
export async function refuseIfExists(c: DockerClient, name: string, instance: string): Promise<void> {
  try {
    const existing = await c.inspectContainer(name);
    throw new KeadmError(
      `container ${name} already exists (${existing.State.Status}); run \`keadm reset${instance === DEFAULT_INSTANCE ? '' : ` --instance ${instance}`}\` first`,
      EXIT.refused,
    );
  } catch (err) {
    if (err instanceof KeadmError) throw err;
    // 404: free to create
  }
}

/** The last lines of a container's output, for a failure message. */
export async function logTail(c: DockerClient, id: string, lines = 15): Promise<string> {
  try {
    const l = await c.containerLogs(id, { tail: lines });
    return `${l.stdout}${l.stderr}`.trim();
  } catch {
    return '';
  }
}
