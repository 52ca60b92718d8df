import { randomInt } from 'node:crypto';
import type { Engine, WriteHooks } from '../engine.ts';
import { isObj } from '../kobj.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** kube-apiserver's token lifetime for the default volume: an hour and a few seconds, so it is told apart. */
const TOKEN_SECONDS = 3607;
/** The alphabet Kubernetes' random name suffixes use (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return s;
}

/** The projected volume kube-apiserver's ServiceAccount admission gives a pod: token, cluster CA, namespace. */
export function serviceAccountVolume(name: string): KObj {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function containersOf(spec: KObj): KObj[] {
  return ['initContainers', 'containers'].flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).filter(isObj) : []));
}

/**
 * The ServiceAccount admission plugin's mutation on pod create: the service account defaults to `default`,
 * and, unless the pod or its ServiceAccount opts out (automountServiceAccountToken: false) or a container
 * already mounts something there, a `kube-api-access-xxxxx` projected volume is added and mounted read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container. Unlike kube-apiserver, a pod whose
 * ServiceAccount does not exist (yet) is admitted as it came (no volume, no account name), not refused: the
 * embedded server also runs without the controller that creates `default`, and such pods must keep working.
 */
export function admitPodServiceAccount(engine: Engine, def: ResourceDef, pod: KObj, old: KObj | undefined, sub: string | undefined): void {
  if (def.group !== '' || def.kind !== 'Pod' || old !== undefined || sub !== undefined) return;
  const spec: KObj = isObj(pod['spec']) ? pod['spec'] : {};
  const md: KObj = isObj(pod['metadata']) ? pod['metadata'] : {};
  if (isObj(md['annotations']) && md['annotations']['kubernetes.io/config.mirror'] !== undefined) return;
  const saName = typeof spec['serviceAccountName'] === 'string' && spec['serviceAccountName'] !== '' ? spec['serviceAccountName'] : 'default';
  const sa = engine.store.get('/serviceaccounts', String(md['namespace'] ?? ''), saName);
  if (sa === undefined) return;
  spec['serviceAccountName'] = saName;
  spec['serviceAccount'] ??= saName;
  const automount =
    typeof spec['automountServiceAccountToken'] === 'boolean' ? spec['automountServiceAccountToken'] : sa['automountServiceAccountToken'] !== false;
  if (!automount) return;
  const containers = containersOf(spec);
  const mounted = containers.some(
    (c) => Array.isArray(c['volumeMounts']) && c['volumeMounts'].some((m) => isObj(m) && m['mountPath'] === SERVICE_ACCOUNT_MOUNT_PATH),
  );
  if (mounted || containers.length === 0) return;
  const volumes: unknown[] = Array.isArray(spec['volumes']) ? spec['volumes'] : [];
  const taken = new Set(volumes.filter(isObj).map((v) => v['name']));
  let name = `kube-api-access-${suffix()}`;
  while (taken.has(name)) name = `kube-api-access-${suffix()}`;
  spec['volumes'] = [...volumes, serviceAccountVolume(name)];
  for (const c of containers) {
    const mounts: unknown[] = Array.isArray(c['volumeMounts']) ? c['volumeMounts'] : [];
    c['volumeMounts'] = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
  pod['spec'] = spec;
}

export function installServiceAccountAdmission(engine: Engine): void {
  const hooks: WriteHooks = { admit: (def, obj, old, sub) => admitPodServiceAccount(engine, def, obj, old, sub) };
  engine.hooks.push(hooks);
}
