import { KubeEdgeError } from '../core/errors.ts';
import { KUBEEDGE_CRDS } from './kubeedge-crds.generated.ts';
import { isNotFound, type KubeObject, type KubeRest } from './rest.ts';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** KubeEdge's CustomResourceDefinitions (devices, reliablesyncs, rules, operations, apps, policy), as manifests/crds/ has them. */
export function kubeEdgeCrds(): KubeObject[] {
  return structuredClone(KUBEEDGE_CRDS) as KubeObject[];
}

function established(o: KubeObject): boolean {
  const conds = (o as { status?: { conditions?: { type?: string; status?: string }[] } }).status?.conditions ?? [];
  return conds.some((c) => c.type === 'Established' && c.status === 'True');
}

/**
 * Creates KubeEdge's CRDs on the API server (or updates those whose spec differs) and waits until each is
 * Established, so their kinds can be used right after. The same on the embedded server and on a real cluster.
 */
export async function installKubeEdgeCrds(kube: KubeRest, timeoutMs = 30_000): Promise<void> {
  for (const crd of kubeEdgeCrds()) {
    const name = String(crd.metadata?.name);
    const path = `${CRD_PATH}/${encodeURIComponent(name)}`;
    let cur: KubeObject | undefined;
    try {
      cur = await kube.get(path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (cur === undefined) await kube.create(CRD_PATH, crd);
    else if (JSON.stringify((cur as { spec?: unknown }).spec) !== JSON.stringify((crd as { spec?: unknown }).spec)) {
      await kube.replace(path, { ...crd, metadata: { ...crd.metadata, resourceVersion: cur.metadata?.resourceVersion } });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (established(await kube.get(path))) break;
      if (Date.now() > deadline) throw new KubeEdgeError('KE_CRD_NOT_ESTABLISHED', `CustomResourceDefinition ${name} is not Established`, { name });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
