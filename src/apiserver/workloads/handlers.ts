import { updateMetaOf } from '../apply/managed.ts';
import { rfc3339 } from '../defaults.ts';
import type { ResourceRequest } from '../handlers/resource.ts';
import { sendJson } from '../handlers/http.ts';
import { asList, asObj, isObj } from '../kobj.ts';
import { findResource } from '../resources.ts';
import { ApiError, badRequest, conflict, invalidCauses, methodNotAllowed, notFound } from '../status.ts';
import type { KObj } from '../store.ts';
import { writeOptions } from '../validation/options.ts';
import { budgetsFor, computeCounts, pdbDef, podIsReady, statusOf } from './pdb.ts';

/**
 * The subresources that are actions, not views: `pods/binding` (and the legacy `bindings`), `pods/eviction`
 * and `namespaces/finalize`. Returns false for every other request, which the generic handler serves.
 */
export function handleWorkloadRequest(r: ResourceRequest): boolean {
  const method = r.req.method ?? 'GET';
  const core = r.def.group === '';
  if (core && r.def.kind === 'Binding') {
    if (method !== 'POST' || r.name !== undefined) throw methodNotAllowed();
    bind(r, undefined);
    return true;
  }
  if (core && r.def.kind === 'Pod' && (r.sub === 'binding' || r.sub === 'eviction')) {
    if (method !== 'POST') throw methodNotAllowed();
    if (r.sub === 'binding') bind(r, r.name);
    else evict(r, r.name ?? '');
    return true;
  }
  if (core && r.def.kind === 'Namespace' && r.sub === 'finalize') {
    if (method !== 'PUT') throw methodNotAllowed();
    const updated = r.engine.update(
      r.def,
      undefined,
      r.name ?? '',
      r.body,
      'finalize',
      dryRun(r),
      writeOptions(r),
      updateMetaOf(r.query, r.req.headers['user-agent'], 'finalize'),
    );
    sendJson(r.res, 200, updated);
    return true;
  }
  return false;
}

function dryRun(r: ResourceRequest): boolean {
  return r.query.getAll('dryRun').includes('All');
}

const SUCCESS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

function podDefOf(r: ResourceRequest) {
  const def = findResource('', 'v1', 'pods', r.engine.resources.all());
  if (def === undefined) throw notFound('pods', '', '');
  return def;
}

/** Sets spec.nodeName of a pod that has none, and its PodScheduled condition, as kube-apiserver's BindingREST does. */
function bind(r: ResourceRequest, urlName: string | undefined): void {
  const b: KObj = isObj(r.body) ? r.body : {};
  const md = asObj(b['metadata']);
  const podName = String(md['name'] ?? '');
  if (urlName !== undefined && podName !== urlName) throw badRequest('name in URL does not match name in Binding object');
  const target = asObj(b['target']);
  const causes = [];
  if (typeof target['name'] !== 'string' || target['name'] === '')
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' });
  if (target['kind'] !== undefined && target['kind'] !== '' && target['kind'] !== 'Node') {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(target['kind'])}: supported values: "Node"`,
      field: 'target.kind',
    });
  }
  if (causes.length > 0) throw invalidCauses('Binding', '', podName, causes);
  const def = podDefOf(r);
  const pod = r.engine.get(def, r.namespace, podName);
  const pmd = asObj(pod['metadata']);
  if (typeof md['uid'] === 'string' && md['uid'] !== '' && md['uid'] !== pmd['uid']) {
    throw conflict('pods', '', podName, `Precondition failed: UID in precondition: ${md['uid']}, UID in object meta: ${String(pmd['uid'])}`);
  }
  if (pmd['deletionTimestamp'] !== undefined) throw conflict('pods/binding', '', podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
  const spec = asObj(pod['spec']);
  if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
    throw conflict('pods/binding', '', podName, `pod ${podName} is already assigned to node ${JSON.stringify(spec['nodeName'])}`);
  }
  if (asList(spec['schedulingGates']).length > 0) throw conflict('pods/binding', '', podName, `pod ${podName} has non-empty .spec.schedulingGates`);
  const next = structuredClone(pod);
  next['spec']['nodeName'] = target['name'];
  const ann = asObj(md['annotations']);
  if (Object.keys(ann).length > 0) next['metadata']['annotations'] = { ...asObj(pmd['annotations']), ...ann };
  const status = asObj(next['status']);
  next['status'] = status;
  const conditions = asList(status['conditions']).filter((c) => c['type'] !== 'PodScheduled');
  const prev = asList(status['conditions']).find((c) => c['type'] === 'PodScheduled');
  conditions.push({
    type: 'PodScheduled',
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: prev !== undefined && prev['status'] === 'True' ? prev['lastTransitionTime'] : rfc3339(),
  });
  status['conditions'] = conditions;
  r.engine.update(def, r.namespace, podName, next, 'binding', dryRun(r), {}, updateMetaOf(r.query, r.req.headers['user-agent'], 'binding'));
  sendJson(r.res, 201, SUCCESS);
}

/** Pods whose eviction a budget does not guard: finished, not yet running, or already being deleted. */
function ignoresBudget(pod: KObj): boolean {
  const phase = asObj(pod['status'])['phase'];
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || asObj(pod['metadata'])['deletionTimestamp'] !== undefined;
}

/**
 * A policy/v1 Eviction, as `kubectl drain` posts it: the pod is deleted (with the eviction's deleteOptions)
 * unless the one PodDisruptionBudget covering it allows no disruption, which is a 429 the client retries.
 */
function evict(r: ResourceRequest, name: string): void {
  const ev: KObj = isObj(r.body) ? r.body : {};
  if (ev['kind'] !== undefined && ev['kind'] !== 'Eviction') throw badRequest(`not an Eviction object: kind ${JSON.stringify(ev['kind'])}`);
  if (String(asObj(ev['metadata'])['name'] ?? '') !== name) throw badRequest('name in URL does not match name in Eviction object');
  const opts: KObj = isObj(ev['deleteOptions']) ? structuredClone(ev['deleteOptions']) : {};
  const def = podDefOf(r);
  const pod = r.engine.get(def, r.namespace, name);
  const dry = dryRun(r);
  if (!ignoresBudget(pod)) {
    const budgets = budgetsFor(r.engine, pod);
    if (budgets.length > 1)
      throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = budgets[0];
    const spec = asObj(pdb?.['spec']);
    const alwaysAllow = spec['unhealthyPodEvictionPolicy'] === 'AlwaysAllow';
    if (pdb !== undefined) {
      const counts = computeCounts(r.engine, pdb);
      const unhealthyOk = !podIsReady(pod) && (alwaysAllow || (counts.currentHealthy >= counts.desiredHealthy && counts.desiredHealthy > 0));
      if (!unhealthyOk) charge(r, pdb, counts, name, dry);
    }
  }
  if (!dry) {
    markDisruption(r, def, pod);
    r.engine.delete(def, r.namespace, name, opts);
  }
  sendJson(r.res, 201, SUCCESS);
}

/** Counts the eviction against the budget (disruptedPods), or refuses it with kube-apiserver's 429. */
function charge(r: ResourceRequest, pdb: KObj, counts: ReturnType<typeof computeCounts>, podName: string, dry: boolean): void {
  const pmd = asObj(pdb['metadata']);
  if (counts.disruptionsAllowed <= 0) {
    throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [
        {
          reason: 'DisruptionBudget',
          message: `The disruption budget ${String(pmd['name'])} needs ${counts.desiredHealthy} healthy pods and has ${counts.currentHealthy} currently`,
        },
      ],
      retryAfterSeconds: 0,
    });
  }
  if (dry) return;
  const def = pdbDef(r.engine);
  if (def === undefined) return;
  const status = statusOf(pdb, {
    ...counts,
    disruptionsAllowed: counts.disruptionsAllowed - 1,
    disruptedPods: { ...counts.disruptedPods, [podName]: rfc3339() },
  });
  r.engine.update(def, String(pmd['namespace'] ?? ''), String(pmd['name'] ?? ''), { ...pdb, status }, 'status');
}

/** The DisruptionTarget condition kube-apiserver adds to an evicted pod before deleting it. */
function markDisruption(r: ResourceRequest, def: ReturnType<typeof podDefOf>, pod: KObj): void {
  if (asObj(pod['metadata'])['deletionTimestamp'] !== undefined) return;
  const next = structuredClone(pod);
  const status = asObj(next['status']);
  next['status'] = status;
  status['conditions'] = [
    ...asList(status['conditions']).filter((c) => c['type'] !== 'DisruptionTarget'),
    {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
      lastProbeTime: null,
      lastTransitionTime: rfc3339(),
    },
  ];
  const md = asObj(pod['metadata']);
  r.engine.update(def, String(md['namespace'] ?? ''), String(md['name'] ?? ''), next, 'status');
}
