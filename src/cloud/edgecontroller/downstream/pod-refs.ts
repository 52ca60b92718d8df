import type { KubeObject } from '../../../kube/rest.ts';

export type PodRefs = { configmaps: string[]; secrets: string[] };

type Rec = Record<string, unknown>;
const obj = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Rec => x !== undefined) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Names of the ConfigMaps and Secrets (in the pod's namespace) a pod needs on its node: volumes, projected
 * sources, env valueFrom, envFrom and imagePullSecrets, as KubeEdge's location cache counts them.
 */
export function podReferences(pod: KubeObject): PodRefs {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  const spec = obj(pod['spec']) ?? {};
  for (const v of arr(spec['volumes'])) {
    const cm = str(obj(v['configMap'])?.['name']);
    if (cm !== undefined) cms.add(cm);
    const s = str(obj(v['secret'])?.['secretName']);
    if (s !== undefined) secrets.add(s);
    for (const src of arr(obj(v['projected'])?.['sources'])) {
      const pcm = str(obj(src['configMap'])?.['name']);
      if (pcm !== undefined) cms.add(pcm);
      const ps = str(obj(src['secret'])?.['name']);
      if (ps !== undefined) secrets.add(ps);
    }
  }
  const containers = [...arr(spec['initContainers']), ...arr(spec['containers']), ...arr(spec['ephemeralContainers'])];
  for (const c of containers) {
    for (const e of arr(c['env'])) {
      const from = obj(e['valueFrom']);
      const cm = str(obj(from?.['configMapKeyRef'])?.['name']);
      if (cm !== undefined) cms.add(cm);
      const s = str(obj(from?.['secretKeyRef'])?.['name']);
      if (s !== undefined) secrets.add(s);
    }
    for (const ef of arr(c['envFrom'])) {
      const cm = str(obj(ef['configMapRef'])?.['name']);
      if (cm !== undefined) cms.add(cm);
      const s = str(obj(ef['secretRef'])?.['name']);
      if (s !== undefined) secrets.add(s);
    }
  }
  for (const ps of arr(spec['imagePullSecrets'])) {
    const s = str(ps['name']);
    if (s !== undefined) secrets.add(s);
  }
  return { configmaps: [...cms], secrets: [...secrets] };
}
