import { randomUUID } from 'node:crypto';
import type { ContainerConfig, DockerClient } from '../../src/containers/index.ts';
import { nowMs } from '../lib/api.ts';
import { waitUntil } from '../lib/pool.ts';
import { summarize, type Summary } from '../lib/stats.ts';

/**
 * The container engine's own floor for starting N pods: the same container work edged does for a pod, with no
 * kubelet logic around it (no API server, no cloud hop, no volumes, no status). Per pod, as edged does on Docker:
 * create + start the pause sandbox on the bridge network, then create + start the app container joining the
 * sandbox's network and IPC namespaces. All N pods at once over the Engine API socket, as edged would at best.
 * A second shape, one `docker run -d` per pod (no sandbox), shows what the engine costs for a bare container.
 */
export type FloorShape = 'sandbox+app' | 'single';

export type FloorResult = {
  /** From the first create request to the last app container's `start` event. */
  allRunningMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Containers created and started (2 per pod for sandbox+app). */
  containers: number;
  method: string;
  /** Per pod: first create to its app container's `start` event. */
  perPodMs: Summary;
  errors: number;
};

export type FloorOptions = {
  pods: number;
  shape: FloorShape;
  sandboxImage: string;
  image: string;
  command: string[];
  network?: string;
  timeoutMs?: number;
};

const L_FLOOR = 'io.kubeedge-ts.bench-floor';
const L_ROLE = 'io.kubeedge-ts.bench-floor-role';

export function floorMethod(o: FloorOptions): string {
  const what =
    o.shape === 'sandbox+app'
      ? `per pod: create+start ${o.sandboxImage} (network ${o.network ?? 'bridge'}, IPC shareable), then create+start ${o.image} ${o.command.join(' ')} joining its network+IPC`
      : `per pod: create+start ${o.image} ${o.command.join(' ')} (network ${o.network ?? 'bridge'}), as docker run -d`;
  return `Docker Engine API, ${o.pods} pods in parallel; ${what}; running = the engine's start event`;
}

/** Runs the floor once and removes its containers again (waiting until they are gone, so the next run starts clean). */
export async function dockerEngineFloor(docker: DockerClient, o: FloorOptions): Promise<FloorResult> {
  const run = randomUUID().slice(0, 8);
  const label = `${L_FLOOR}=${run}`;
  const startedAt = new Map<string, number>();
  const events = docker.events(
    { type: ['container'], event: ['start'], label: [label, `${L_ROLE}=app`] },
    (e) => {
      const id = e['id'];
      if (typeof id === 'string' && !startedAt.has(id)) startedAt.set(id, nowMs());
    },
    () => undefined,
  );
  // The event stream must be open before the first create, or early starts are missed.
  await new Promise((r) => setTimeout(r, 300));
  const network = o.network ?? 'bridge';
  const appIds: Array<string | undefined> = [];
  let errors = 0;
  const t0 = nowMs();
  try {
    await Promise.all(
      Array.from({ length: o.pods }, async (_, i) => {
        const labels = { [L_FLOOR]: run };
        try {
          let join: string | undefined;
          if (o.shape === 'sandbox+app') {
            const sandbox: ContainerConfig = {
              Image: o.sandboxImage,
              Labels: { ...labels, [L_ROLE]: 'sandbox' },
              Hostname: `floor-${i}`,
              HostConfig: { IpcMode: 'shareable', NetworkMode: network, RestartPolicy: { Name: 'no' } },
            };
            const { Id } = await docker.createContainer(`floor-${run}-${i}-pod`, sandbox);
            await docker.startContainer(Id);
            join = `container:${Id}`;
          }
          const app: ContainerConfig = {
            Image: o.image,
            Labels: { ...labels, [L_ROLE]: 'app' },
            Entrypoint: o.command,
            Cmd: [],
            HostConfig: {
              NetworkMode: join ?? network,
              ...(join !== undefined ? { IpcMode: join } : {}),
              RestartPolicy: { Name: 'no' },
            },
          };
          const { Id } = await docker.createContainer(`floor-${run}-${i}-app`, app);
          await docker.startContainer(Id);
          appIds[i] = Id;
        } catch {
          errors++;
        }
      }),
    );
    const ids = appIds.filter((x): x is string => x !== undefined);
    // The start event can trail the start call's answer a little; the inspect below is the check that they run.
    await waitUntil(() => ids.every((id) => startedAt.has(id)), 10_000, 20);
    const running = await Promise.all(
      ids.map((id) =>
        docker.inspectContainer(id).then(
          (c) => c.State.Running === true,
          () => false,
        ),
      ),
    );
    errors += running.filter((r) => !r).length + ids.filter((id) => !startedAt.has(id)).length;
    const per = ids.map((id) => (startedAt.get(id) ?? Number.NaN) - t0);
    const s = summarize(per);
    return {
      allRunningMs: s.max,
      p50Ms: s.p50,
      p99Ms: s.p99,
      containers: o.shape === 'sandbox+app' ? o.pods * 2 : o.pods,
      method: floorMethod(o),
      perPodMs: s,
      errors,
    };
  } finally {
    events.close();
    await removeFloor(docker, label, o.timeoutMs ?? 120_000);
  }
}

async function removeFloor(docker: DockerClient, label: string, timeoutMs: number): Promise<void> {
  const list = async (role?: string) =>
    (await docker.listContainers({ all: true, labels: role === undefined ? [label] : [label, `${L_ROLE}=${role}`] })).map((c) => c.Id);
  const remove = async (ids: string[]) => {
    await Promise.all(ids.map((id) => docker.removeContainer(id, { force: true, volumes: true }).catch(() => undefined)));
  };
  // App containers before the sandboxes whose namespaces they joined.
  await remove(await list('app').catch(() => []));
  await remove(await list().catch(() => []));
  await waitUntil(async () => (await list().catch(() => ['?'])).length === 0, timeoutMs, 500);
}
