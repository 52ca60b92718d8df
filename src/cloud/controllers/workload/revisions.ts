import type { KubeObject, KubeRest } from '../../../kube/rest.ts';
import { isAlreadyExists, isNotFound } from '../../../kube/rest.ts';
import { controllerRef, nameOf, namespaceOf, resourcePath } from '../kit/objects.ts';
import { stableJson, templateHash } from './hash.ts';

/** The label that ties pods and ControllerRevisions to a revision of their DaemonSet or StatefulSet. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';

const CR_PATH = (ns: string, name?: string): string => resourcePath('apps/v1', 'controllerrevisions', ns, name);

/**
 * What a DaemonSet or StatefulSet revision stores: the pod template as a strategic-merge patch that replaces
 * the template. `kubectl rollout undo` applies exactly this to the workload.
 */
export function templatePatch(template: unknown): Record<string, unknown> {
  return { spec: { template: { ...(template as Record<string, unknown>), $patch: 'replace' } } };
}

export function revisionNumber(cr: KubeObject): number {
  const n = Number(cr['revision']);
  return Number.isFinite(n) ? n : 0;
}

export type RevisionInput = {
  kube: KubeRest;
  owner: KubeObject;
  template: unknown;
  /** The ControllerRevisions the owner controls (from the informer). */
  revisions: KubeObject[];
  collisionCount: number;
  /** spec.revisionHistoryLimit (Kubernetes' default 10). */
  historyLimit: number;
  /** Revision names that live pods still run: never pruned. */
  inUse: Set<string>;
};

export type RevisionResult = { update: KubeObject; hash: string; collisionCount: number; revisions: KubeObject[] };

/**
 * Makes the owner's current template the newest ControllerRevision (an old revision whose template is the same
 * again, after `rollout undo`, is renumbered instead of copied) and prunes the history beyond the limit.
 */
export async function syncRevisions(o: RevisionInput): Promise<RevisionResult> {
  const ns = namespaceOf(o.owner);
  const data = templatePatch(o.template);
  const want = stableJson(data);
  let revisions = [...o.revisions].sort((a, b) => revisionNumber(a) - revisionNumber(b));
  const max = revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);
  let collisionCount = o.collisionCount;
  const same = revisions.find((r) => stableJson(r['data']) === want);
  let update: KubeObject;
  if (same !== undefined) {
    update = revisionNumber(same) < max ? await o.kube.patch(CR_PATH(ns, nameOf(same)), { revision: max + 1 }, 'merge') : same;
  } else {
    const made = await createRevision(o, data, want, max + 1, collisionCount);
    update = made.revision;
    collisionCount = made.collisionCount;
    revisions = [...revisions, update];
  }
  const updateName = nameOf(update);
  revisions = revisions.map((r) => (nameOf(r) === updateName ? update : r)).sort((a, b) => revisionNumber(a) - revisionNumber(b));
  const prunable = revisions.filter((r) => nameOf(r) !== updateName && !o.inUse.has(nameOf(r)));
  let excess = revisions.length - Math.max(0, o.historyLimit) - 1;
  const kept: KubeObject[] = [...revisions];
  for (const r of prunable) {
    if (excess <= 0) break;
    try {
      await o.kube.delete(CR_PATH(ns, nameOf(r)));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    kept.splice(kept.indexOf(r), 1);
    excess--;
  }
  const hash = String(
    (update.metadata?.['labels'] as Record<string, string> | undefined)?.[REVISION_HASH_LABEL] ?? updateName.slice(nameOf(o.owner).length + 1),
  );
  return { update, hash, collisionCount, revisions: kept };
}

async function createRevision(
  o: RevisionInput,
  data: Record<string, unknown>,
  want: string,
  revision: number,
  collisions: number,
): Promise<{ revision: KubeObject; collisionCount: number }> {
  const ns = namespaceOf(o.owner);
  const templateLabels = (o.template as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
  let collisionCount = collisions;
  for (let attempt = 0; ; attempt++) {
    const hash = templateHash(o.template, collisionCount);
    const name = `${nameOf(o.owner)}-${hash}`;
    try {
      const created = await o.kube.create(CR_PATH(ns), {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: { name, namespace: ns, labels: { ...templateLabels, [REVISION_HASH_LABEL]: hash }, ownerReferences: [controllerRef(o.owner)] },
        data,
        revision,
      });
      return { revision: created, collisionCount };
    } catch (err) {
      if (!isAlreadyExists(err) || attempt >= 5) throw err;
      const existing = await o.kube.get(CR_PATH(ns, name));
      if (stableJson(existing['data']) === want) {
        const current = revisionNumber(existing) < revision - 1 ? await o.kube.patch(CR_PATH(ns, name), { revision }, 'merge') : existing;
        return { revision: current, collisionCount };
      }
      collisionCount++; // a different template under the same hash: Kubernetes' collision count
    }
  }
}
