import { PodSetupError } from './errors.ts';
import type { ConfigObject, Container, Pod } from './types.ts';

export type EnvSources = {
  getConfigMap(namespace: string, name: string): Promise<ConfigObject | undefined>;
  getSecret(namespace: string, name: string): Promise<ConfigObject | undefined>;
  nodeName: string;
  nodeIP: string;
  podIP: string;
};

/** Key → text of a ConfigMap (data + binaryData) or Secret (base64 data + stringData). */
export function configData(obj: ConfigObject, isSecret: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, isSecret ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(obj.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

function fieldValue(pod: Pod, path: string, src: EnvSources): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] as string] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? src.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
      return src.podIP;
    case 'status.hostIP':
      return src.nodeIP;
    default:
      throw new PodSetupError('CreateContainerConfigError', `unsupported fieldRef ${path}`, { pod: pod.metadata.name });
  }
}

/** Kubernetes `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown references stay as written. */
export function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && vars.has(name) ? (vars.get(name) as string) : whole;
  });
}

/**
 * Resolves a container's env in Kubernetes order: envFrom first, then env (later entries win). A missing
 * non-optional source is CreateContainerConfigError, as kubelet reports it.
 */
export async function resolveEnv(pod: Pod, c: Container, src: EnvSources): Promise<Map<string, string>> {
  const ns = pod.metadata.namespace ?? 'default';
  const vars = new Map<string, string>();
  const load = async (kind: 'configmap' | 'secret', name: string, optional: boolean): Promise<Map<string, Buffer> | undefined> => {
    const obj = kind === 'configmap' ? await src.getConfigMap(ns, name) : await src.getSecret(ns, name);
    if (obj === undefined) {
      if (optional) return undefined;
      throw new PodSetupError('CreateContainerConfigError', `${kind} "${name}" not found`, { namespace: ns, name });
    }
    return configData(obj, kind === 'secret');
  };
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const data = await load(from.configMapRef ? 'configmap' : 'secret', ref.name, ref.optional ?? false);
    for (const [k, v] of data ?? []) vars.set(`${from.prefix ?? ''}${k}`, v.toString('utf8'));
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      vars.set(e.name, expand(e.value ?? '', vars));
      continue;
    }
    const { configMapKeyRef: cm, secretKeyRef: sec, fieldRef } = e.valueFrom;
    if (fieldRef) {
      vars.set(e.name, fieldValue(pod, fieldRef.fieldPath, src));
    } else if (cm || sec) {
      const ref = (cm ?? sec) as { name?: string; key: string; optional?: boolean };
      const kind = cm ? 'configmap' : 'secret';
      const data = await load(kind, ref.name ?? '', ref.optional ?? false);
      const value = data?.get(ref.key);
      if (value === undefined) {
        if (ref.optional) continue;
        throw new PodSetupError(
          'CreateContainerConfigError',
          `couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name ?? ''}`,
          { namespace: ns },
        );
      }
      vars.set(e.name, value.toString('utf8'));
    }
  }
  return vars;
}
