import type { KubeObject } from '../../kube/rest.ts';

/** What a pod needs from the API server on its node, all in the pod's namespace. */
export type PodRefs = { configmaps: string[]; secrets: string[]; pvcs: string[]; serviceAccount: string };

type Rec = Record<string, unknown>;
const obj = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Rec => x !== undefined) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Names of the ConfigMaps and Secrets (in the pod's namespace) a pod needs on its node: volumes, projected
 * sources, env valueFrom, envFrom and imagePullSecrets, as KubeEdge's location cache counts them; plus the PVCs
 * (volumes and ephemeral volumes' generated claims) and the ServiceAccount, which Kubernetes' node authorizer
 * also ties to the pod's node. Downstream delivery and the node authorizer share this one reading of a pod.
 */
export function podReferences(pod: KubeObject): PodRefs {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  const pvcs = new Set<string>();
  const spec = obj(pod['spec']) ?? {};
  const podName = str(obj(pod['metadata'])?.['name']);
  for (const v of arr(spec['volumes'])) {
    const claim = str(obj(v['persistentVolumeClaim'])?.['claimName']);
    if (claim !== undefined) pvcs.add(claim);
    // A generic ephemeral volume's claim is named <pod>-<volume> by the ephemeral volume controller.
    const vname = str(v['name']);
    if (obj(v['ephemeral']) !== undefined && podName !== undefined && vname !== undefined) pvcs.add(`${podName}-${vname}`);
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
  const serviceAccount = str(spec['serviceAccountName']) ?? str(spec['serviceAccount']) ?? 'default';
  return { configmaps: [...cms], secrets: [...secrets], pvcs: [...pvcs], serviceAccount };
}
