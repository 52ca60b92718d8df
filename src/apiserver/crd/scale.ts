import { updateMetaOf } from '../apply/managed.ts';
import type { ResourceRequest } from '../handlers/resource.ts';
import { sendJson } from '../handlers/http.ts';
import { applyPatch, patchTypeOf } from '../patch.ts';
import { badRequest, conflict, methodNotAllowed, unsupportedMediaType } from '../status.ts';
import type { KObj } from '../store.ts';
import { writeOptions } from '../validation/options.ts';
import { jsonPathGet, jsonPathSet } from './jsonpath.ts';
import { formatSelector } from '../workloads/labelselector.ts';

function scaleOf(r: ResourceRequest, o: KObj): KObj {
  const info = r.def.crd?.scale;
  const md: KObj = o['metadata'] ?? {};
  // Built-in kinds (deployments, replicasets, statefulsets) show their spec.selector in its string form.
  const selector =
    r.def.crd === undefined
      ? formatSelector(o['spec']?.['selector'])
      : info?.labelSelectorPath === undefined
        ? undefined
        : jsonPathGet(o, info.labelSelectorPath);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: md['name'],
      ...(md['namespace'] === undefined ? {} : { namespace: md['namespace'] }),
      uid: md['uid'],
      resourceVersion: md['resourceVersion'],
      creationTimestamp: md['creationTimestamp'],
    },
    spec: { replicas: Number(jsonPathGet(o, info?.specReplicasPath ?? '.spec.replicas') ?? 0) },
    status: {
      replicas: Number(jsonPathGet(o, info?.statusReplicasPath ?? '.status.replicas') ?? 0),
      ...(typeof selector === 'string' ? { selector } : {}),
    },
  };
}

/**
 * The `scale` subresource: an autoscaling/v1 Scale mapped onto the paths a CRD names, or onto spec.replicas,
 * status.replicas and spec.selector of the built-in kinds that have one.
 */
export function handleScale(r: ResourceRequest): void {
  const name = r.name ?? '';
  const method = r.req.method ?? 'GET';
  const cur = r.engine.get(r.def, r.namespace, name);
  if (method === 'GET') return sendJson(r.res, 200, scaleOf(r, cur));
  let want: KObj;
  if (method === 'PUT') want = (r.body ?? {}) as KObj;
  else if (method === 'PATCH') {
    const type = patchTypeOf(r.req.headers['content-type']);
    if (type === undefined) throw unsupportedMediaType(String(r.req.headers['content-type'] ?? ''));
    want = applyPatch(type, scaleOf(r, cur), r.body);
  } else throw methodNotAllowed();
  const wantRv = want['metadata']?.['resourceVersion'];
  if (method === 'PUT' && typeof wantRv === 'string' && wantRv !== '' && wantRv !== cur['metadata']?.['resourceVersion']) {
    throw conflict(r.def.plural, r.def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const replicas = want['spec']?.['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw badRequest('spec.replicas must be a non-negative integer');
  const next = structuredClone(cur);
  jsonPathSet(next, r.def.crd?.scale?.specReplicasPath ?? '.spec.replicas', replicas);
  const dryRun = r.query.getAll('dryRun').includes('All');
  const w = updateMetaOf(r.query, r.req.headers['user-agent'], 'scale');
  const updated = r.engine.update(r.def, r.namespace, name, next, undefined, dryRun, writeOptions(r), w);
  sendJson(r.res, 200, scaleOf(r, updated));
}
