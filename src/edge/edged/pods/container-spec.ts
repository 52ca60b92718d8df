import type { ContainerSpec } from '../runtime/types.ts';
import { type EnvSources, expand, resolveEnv } from './env.ts';
import { PodSetupError } from './errors.ts';
import { containerMounts } from './volumes.ts';
import type { Container, Pod } from './types.ts';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes resource quantity ("500m", "64Mi", "1.5", "1e3") as a plain number. */
export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new PodSetupError('CreateContainerConfigError', `invalid resource quantity ${JSON.stringify(q)}`);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  const mult = BINARY[suffix] ?? DECIMAL[suffix];
  if (!Number.isFinite(n) || mult === undefined) throw new PodSetupError('CreateContainerConfigError', `invalid resource quantity ${JSON.stringify(q)}`);
  return n * mult;
}

export interface SpecInputs extends EnvSources {
  sandboxId: string;
  volumePaths: Map<string, string>;
  labels: Record<string, string>;
  name: string;
}

/** Kubernetes container → engine-neutral ContainerSpec (env resolved, `$(VAR)` expanded, mounts bound). */
export async function buildContainerSpec(pod: Pod, c: Container, inputs: SpecInputs): Promise<ContainerSpec> {
  const env = await resolveEnv(pod, c, inputs);
  const limits = c.resources?.limits ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const runAsGroup = sc.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  const spec: ContainerSpec = {
    name: inputs.name,
    image: c.image,
    labels: inputs.labels,
    sandboxId: inputs.sandboxId,
    hostNetwork: pod.spec.hostNetwork ?? false,
    env: [...env].map(([name, value]) => ({ name, value })),
    mounts: await containerMounts(pod, c, inputs.volumePaths),
  };
  if (c.command) spec.command = c.command.map((a) => expand(a, env));
  if (c.args) spec.args = c.args.map((a) => expand(a, env));
  if (c.workingDir) spec.workingDir = c.workingDir;
  if (runAsUser !== undefined) spec.user = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  if (sc.capabilities?.add) spec.capAdd = sc.capabilities.add;
  if (sc.capabilities?.drop) spec.capDrop = sc.capabilities.drop;
  if (sc.privileged) spec.privileged = true;
  if (sc.readOnlyRootFilesystem) spec.readOnlyRootFilesystem = true;
  if (limits['cpu']) spec.nanoCpus = Math.round(parseQuantity(limits['cpu']) * 1e9);
  if (limits['memory']) spec.memoryBytes = Math.round(parseQuantity(limits['memory']));
  if (c.tty) spec.tty = true;
  if (c.stdin) spec.stdin = true;
  return spec;
}
