import { defaultPodSpec } from '../defaults.ts';
import { asObj, isObj } from '../kobj.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';

/**
 * What kube-apiserver's defaulting fills into the workload kinds on create (and so what `kubectl get -o yaml`
 * shows): the apps/v1, batch/v1 and policy/v1 defaults, and the PodSpec defaults of every pod template.
 */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

function child(o: KObj, key: string): KObj {
  const v = isObj(o[key]) ? o[key] : {};
  o[key] = v;
  return v;
}

/** spec.template of a workload: its PodSpec defaults. */
function defaultTemplate(spec: KObj): void {
  const tpl = child(spec, 'template');
  defaultPodSpec(child(tpl, 'spec'));
}

function defaultDeployment(spec: KObj): void {
  spec['replicas'] ??= 1;
  const strategy = child(spec, 'strategy');
  strategy['type'] ??= 'RollingUpdate';
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    ru['maxUnavailable'] ??= '25%';
    ru['maxSurge'] ??= '25%';
  }
  spec['revisionHistoryLimit'] ??= 10;
  spec['progressDeadlineSeconds'] ??= 600;
  defaultTemplate(spec);
}

function defaultDaemonSet(spec: KObj): void {
  const strategy = child(spec, 'updateStrategy');
  strategy['type'] ??= 'RollingUpdate';
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    ru['maxUnavailable'] ??= 1;
    ru['maxSurge'] ??= 0;
  }
  spec['revisionHistoryLimit'] ??= 10;
  defaultTemplate(spec);
}

function defaultStatefulSet(spec: KObj): void {
  spec['replicas'] ??= 1;
  spec['podManagementPolicy'] ??= 'OrderedReady';
  const strategy = child(spec, 'updateStrategy');
  strategy['type'] ??= 'RollingUpdate';
  if (strategy['type'] === 'RollingUpdate') child(strategy, 'rollingUpdate')['partition'] ??= 0;
  spec['revisionHistoryLimit'] ??= 10;
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  retention['whenDeleted'] ??= 'Retain';
  retention['whenScaled'] ??= 'Retain';
  if (Array.isArray(spec['volumeClaimTemplates'])) {
    for (const pvc of spec['volumeClaimTemplates'] as KObj[]) {
      if (!isObj(pvc)) continue;
      child(pvc, 'spec')['volumeMode'] ??= 'Filesystem';
      child(pvc, 'status')['phase'] ??= 'Pending';
    }
  }
  defaultTemplate(spec);
}

/**
 * Job defaults, and the selector kube-apiserver generates unless spec.manualSelector is true: the job's uid as
 * `batch.kubernetes.io/controller-uid`, with the uid and job-name labels (new and legacy) on the pod template.
 */
function defaultJob(o: KObj, spec: KObj, create: boolean): void {
  if (spec['completions'] === undefined && spec['parallelism'] === undefined) spec['completions'] = 1;
  spec['parallelism'] ??= 1;
  spec['backoffLimit'] ??= spec['backoffLimitPerIndex'] === undefined ? 6 : 2147483647;
  spec['completionMode'] ??= 'NonIndexed';
  spec['suspend'] ??= false;
  spec['podReplacementPolicy'] ??= spec['podFailurePolicy'] === undefined ? 'TerminatingOrFailed' : 'Failed';
  spec['manualSelector'] ??= false;
  defaultTemplate(spec);
  const md = child(o, 'metadata');
  // The selector is generated once, at create; an update keeps (and validation keeps immutable) what is stored.
  if (spec['manualSelector'] !== true && create) {
    const uid = String(md['uid'] ?? '');
    const name = String(md['name'] ?? '');
    const tplMd = child(child(spec, 'template'), 'metadata');
    tplMd['labels'] = {
      ...asObj(tplMd['labels']),
      [JOB_CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: name,
      'controller-uid': uid,
      'job-name': name,
    };
    // Only a selector of the user's own is kept as is: validation refuses it (it is not the generated one).
    if (spec['selector'] === undefined) spec['selector'] = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
  }
  const tplLabels = asObj(asObj(asObj(spec['template'])['metadata'])['labels']);
  if (Object.keys(asObj(md['labels'])).length === 0 && Object.keys(tplLabels).length > 0) md['labels'] = { ...tplLabels };
}

function defaultCronJob(spec: KObj): void {
  spec['concurrencyPolicy'] ??= 'Allow';
  spec['suspend'] ??= false;
  spec['successfulJobsHistoryLimit'] ??= 3;
  spec['failedJobsHistoryLimit'] ??= 1;
  defaultTemplate(child(child(spec, 'jobTemplate'), 'spec'));
}

function defaultEndpointSlice(o: KObj): void {
  if (!Array.isArray(o['ports'])) return;
  for (const p of o['ports'] as KObj[]) {
    if (!isObj(p)) continue;
    p['name'] ??= '';
    p['protocol'] ??= 'TCP';
  }
}

/**
 * `create`: a new object (its status starts empty, a Job gets its selector). Updates are defaulted too, as
 * kube-apiserver defaults every object it decodes, so a `kubectl replace` without, say, replicas stores 1.
 */
export function applyWorkloadDefaults(def: ResourceDef, o: KObj, create = true): void {
  const key = `${def.group}/${def.kind}`;
  if (key === 'discovery.k8s.io/EndpointSlice') return defaultEndpointSlice(o);
  if (!['apps/Deployment', 'apps/ReplicaSet', 'apps/DaemonSet', 'apps/StatefulSet', 'batch/Job', 'batch/CronJob', 'policy/PodDisruptionBudget'].includes(key))
    return;
  const spec = child(o, 'spec');
  // As kube-apiserver's create strategies do: a new workload's status is the controllers' to fill, from empty.
  if (create && key !== 'policy/PodDisruptionBudget') o['status'] = {};
  switch (key) {
    case 'apps/Deployment':
      return defaultDeployment(spec);
    case 'apps/ReplicaSet':
      spec['replicas'] ??= 1;
      return defaultTemplate(spec);
    case 'apps/DaemonSet':
      return defaultDaemonSet(spec);
    case 'apps/StatefulSet':
      return defaultStatefulSet(spec);
    case 'batch/Job':
      return defaultJob(o, spec, create);
    case 'batch/CronJob':
      return defaultCronJob(spec);
    case 'policy/PodDisruptionBudget':
      if (spec['minAvailable'] === undefined && spec['maxUnavailable'] === undefined) spec['minAvailable'] = 1;
      return;
    default:
      return;
  }
}
