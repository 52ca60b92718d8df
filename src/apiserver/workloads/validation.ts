import type { Cause } from '../crd/schema.ts';
import { asList, asObj, isObj } from '../kobj.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { podSpecCauses } from '../validation/builtin.ts';
import { JOB_CONTROLLER_UID_LABEL } from './defaults.ts';
import { selectorEmpty, selectorMatches } from './labelselector.ts';

/**
 * The checks kube-apiserver makes on the workload kinds that users trip over: a selector is required, not
 * empty, matches the template's labels and never changes; replica counts are not negative; restart policies
 * fit the kind; a Job's selector is the generated one; a CronJob has a schedule. Messages as kube-apiserver's.
 */

function goString(v: unknown): string {
  return JSON.stringify(String(v));
}

/** Go's %#v of a map[string]string, as field.Invalid prints it. */
function goMap(m: unknown): string {
  const entries = Object.entries(asObj(m)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!isObj(m)) return 'map[string]string(nil)';
  return `map[string]string{${entries.map(([k, v]) => `${goString(k)}:${goString(v)}`).join(', ')}}`;
}

/** Go's %#v of a *metav1.LabelSelector, as field.Invalid prints it. */
function goSelector(sel: unknown): string {
  if (!isObj(sel)) return 'nil';
  const exprs = asList(sel['matchExpressions']);
  const ml = sel['matchLabels'] === undefined ? 'map[string]string(nil)' : goMap(sel['matchLabels']);
  const me =
    sel['matchExpressions'] === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${exprs
          .map(
            (e) =>
              `v1.LabelSelectorRequirement{Key:${goString(e['key'] ?? '')}, Operator:${goString(e['operator'] ?? '')}, Values:[]string{${(Array.isArray(e['values']) ? e['values'] : []).map(goString).join(', ')}}}`,
          )
          .join(', ')}}`;
  return `&v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

const invalidValue = (field: string, shown: string, why: string): Cause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${why}`, field });
const required = (field: string, detail = ''): Cause => ({
  reason: 'FieldValueRequired',
  message: `Required value${detail === '' ? '' : `: ${detail}`}`,
  field,
});

function nonNegative(spec: KObj, key: string, out: Cause[]): void {
  const v = spec[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) out.push(invalidValue(`spec.${key}`, JSON.stringify(v), 'must be an integer'));
  else if (v < 0) out.push(invalidValue(`spec.${key}`, String(v), 'must be greater than or equal to 0'));
}

/** apps/v1 selector and template: required, not empty, matching. */
function selectorCauses(spec: KObj, kindWord: string, out: Cause[]): void {
  const sel = spec['selector'];
  const tplLabels = asObj(asObj(asObj(spec['template'])['metadata'])['labels']) as Record<string, string>;
  if (!isObj(sel)) {
    out.push(required('spec.selector'));
    return;
  }
  if (selectorEmpty(sel)) {
    out.push(invalidValue('spec.selector', goSelector(sel).slice(1), `empty selector is invalid for ${kindWord}`));
    return;
  }
  if (!selectorMatches(sel, tplLabels)) {
    out.push(
      invalidValue('spec.template.metadata.labels', goMap(asObj(asObj(spec['template'])['metadata'])['labels']), '`selector` does not match template `labels`'),
    );
  }
}

function restartPolicyCauses(podSpec: KObj, path: string, allowed: string[], out: Cause[]): void {
  const rp = podSpec['restartPolicy'];
  if (rp === undefined || allowed.includes(rp)) return;
  if (allowed.length === 1) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${goString(rp)}: supported values: ${allowed.map(goString).join(', ')}`,
      field: path,
    });
  } else {
    out.push(required(path, `valid values: ${allowed.map(goString).join(', ')}`));
  }
}

function templateSpec(spec: KObj): KObj {
  return asObj(asObj(spec['template'])['spec']);
}

function immutableSelector(old: KObj | undefined, o: KObj, out: Cause[]): void {
  if (old === undefined) return;
  const a = asObj(old['spec'])['selector'];
  const b = asObj(o['spec'])['selector'];
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(invalidValue('spec.selector', goSelector(b).slice(1), 'field is immutable'));
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function statefulSetUpdateCauses(old: KObj, o: KObj, out: Cause[]): void {
  const strip = (x: KObj) => Object.fromEntries(Object.entries(asObj(x['spec'])).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (JSON.stringify(strip(old)) === JSON.stringify(strip(o))) return;
  out.push({
    reason: 'FieldValueForbidden',
    message:
      "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    field: 'spec',
  });
}

function jobCauses(o: KObj, old: KObj | undefined, out: Cause[]): void {
  const spec = asObj(o['spec']);
  for (const k of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) nonNegative(spec, k, out);
  const tpl = templateSpec(spec);
  out.push(...podSpecCauses(tpl, 'spec.template.spec'));
  restartPolicyCauses(tpl, 'spec.template.spec.restartPolicy', ['OnFailure', 'Never'], out);
  if (spec['manualSelector'] !== true && old === undefined) {
    const uid = String(asObj(o['metadata'])['uid'] ?? '');
    const want = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
    if (JSON.stringify(spec['selector']) !== JSON.stringify(want))
      out.push(invalidValue('spec.selector', goSelector(spec['selector']).slice(1), '`selector` not auto-generated'));
  } else if (
    isObj(spec['selector']) &&
    !selectorMatches(spec['selector'], asObj(asObj(asObj(spec['template'])['metadata'])['labels']) as Record<string, string>)
  ) {
    out.push(
      invalidValue('spec.template.metadata.labels', goMap(asObj(asObj(spec['template'])['metadata'])['labels']), '`selector` does not match template `labels`'),
    );
  }
  immutableSelector(old, o, out);
  if (old === undefined) return;
  const before = asObj(old['spec']);
  if (JSON.stringify(before['completions']) !== JSON.stringify(spec['completions'])) {
    out.push(invalidValue('spec.completions', String(spec['completions']), 'field is immutable'));
  }
  // A suspended Job may still have its pod template edited before it starts; a running one may not.
  if (before['suspend'] !== true && JSON.stringify(before['template']) !== JSON.stringify(spec['template'])) {
    out.push(invalidValue('spec.template', 'core.PodTemplateSpec{...}', 'field is immutable'));
  }
}

/** Five fields (or six with seconds is not cron's), or a @macro: enough to refuse what a typo makes. */
function scheduleOk(s: string): boolean {
  const t = s.trim().replace(/^(CRON_)?TZ=\S+\s+/, '');
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(t) || /^@every\s+\S+$/.test(t)) return true;
  const fields = t.split(/\s+/);
  return fields.length === 5 && fields.every((f) => /^[\d*?/,\-A-Za-z]+$/.test(f));
}

function cronJobCauses(o: KObj, out: Cause[]): void {
  const spec = asObj(o['spec']);
  const schedule = spec['schedule'];
  if (typeof schedule !== 'string' || schedule === '') out.push(required('spec.schedule'));
  else if (!scheduleOk(schedule)) out.push(invalidValue('spec.schedule', goString(schedule), 'unparseable schedule'));
  const policy = spec['concurrencyPolicy'];
  if (policy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(policy)) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${goString(policy)}: supported values: "Allow", "Forbid", "Replace"`,
      field: 'spec.concurrencyPolicy',
    });
  }
  for (const k of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'startingDeadlineSeconds']) nonNegative(spec, k, out);
  const jobSpec = asObj(asObj(spec['jobTemplate'])['spec']);
  const tpl = templateSpec(jobSpec);
  for (const c of podSpecCauses(tpl, 'spec.jobTemplate.spec.template.spec')) out.push(c);
  restartPolicyCauses(tpl, 'spec.jobTemplate.spec.template.spec.restartPolicy', ['OnFailure', 'Never'], out);
}

function pdbCauses(o: KObj, out: Cause[]): void {
  const spec = asObj(o['spec']);
  if (spec['minAvailable'] !== undefined && spec['maxUnavailable'] !== undefined) {
    out.push(invalidValue('spec', 'policy.PodDisruptionBudgetSpec{...}', 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const k of ['minAvailable', 'maxUnavailable']) {
    const v = spec[k];
    if (v === undefined) continue;
    if (typeof v === 'number' && (!Number.isInteger(v) || v < 0)) out.push(invalidValue(`spec.${k}`, String(v), 'must be greater than or equal to 0'));
    if (typeof v === 'string' && !/^\d+%$/.test(v))
      out.push(
        invalidValue(
          `spec.${k}`,
          goString(v),
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
    if (typeof v === 'string' && /^\d+%$/.test(v) && Number.parseInt(v, 10) > 100)
      out.push(invalidValue(`spec.${k}`, goString(v), 'must not be greater than 100%'));
  }
}

/** Go's %#v of an intstr.IntOrString, as field.Invalid prints it. */
function goIntOrString(v: unknown): string {
  return typeof v === 'string' ? `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goString(v)}}` : `intstr.IntOrString{Type:0, IntVal:${Number(v)}, StrVal:""}`;
}

function isZero(v: unknown): boolean {
  return v === 0 || v === '0%';
}

/** maxUnavailable / maxSurge: a count or a percentage, not both 0, maxUnavailable at most 100%. */
function rollingUpdateCauses(ru: KObj, path: string, out: Cause[]): void {
  for (const k of ['maxUnavailable', 'maxSurge']) {
    const v = ru[k];
    if (v === undefined) continue;
    if (typeof v === 'number' && v < 0) out.push(invalidValue(`${path}.${k}`, goIntOrString(v), 'must be greater than or equal to 0'));
    if (typeof v === 'string' && !/^\d+%$/.test(v)) {
      out.push(
        invalidValue(
          `${path}.${k}`,
          goIntOrString(v),
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
    }
  }
  const mu = ru['maxUnavailable'];
  if (typeof mu === 'string' && /^\d+%$/.test(mu) && Number.parseInt(mu, 10) > 100)
    out.push(invalidValue(`${path}.maxUnavailable`, goIntOrString(mu), 'must not be greater than 100%'));
  if (mu !== undefined && ru['maxSurge'] !== undefined && isZero(mu) && isZero(ru['maxSurge'])) {
    out.push(invalidValue(`${path}.maxUnavailable`, goIntOrString(mu), 'may not be 0 when `maxSurge` is 0'));
  }
}

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function endpointSliceCauses(o: KObj, out: Cause[]): void {
  const t = o['addressType'];
  if (t === undefined || t === '') out.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(t))
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${goString(t)}: supported values: "FQDN", "IPv4", "IPv6"`,
      field: 'addressType',
    });
  asList(o['endpoints']).forEach((ep, i) => {
    const addrs = Array.isArray(ep['addresses']) ? ep['addresses'] : [];
    if (addrs.length === 0) out.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
  });
}

/** Causes for the workload kinds; nothing for other kinds and for status writes (the caller skips those). */
export function workloadCauses(def: ResourceDef, o: KObj, old: KObj | undefined): Cause[] {
  const out: Cause[] = [];
  const spec = asObj(o['spec']);
  switch (`${def.group}/${def.kind}`) {
    case 'apps/Deployment':
    case 'apps/ReplicaSet':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet': {
      const word = def.kind.toLowerCase();
      nonNegative(spec, 'replicas', out);
      nonNegative(spec, 'revisionHistoryLimit', out);
      nonNegative(spec, 'minReadySeconds', out);
      selectorCauses(spec, word, out);
      const tpl = templateSpec(spec);
      out.push(...podSpecCauses(tpl, 'spec.template.spec'));
      restartPolicyCauses(tpl, 'spec.template.spec.restartPolicy', ['Always'], out);
      if (def.kind === 'Deployment') {
        const type = asObj(spec['strategy'])['type'];
        if (type !== undefined && !['RollingUpdate', 'Recreate'].includes(type)) {
          out.push({
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${goString(type)}: supported values: "Recreate", "RollingUpdate"`,
            field: 'spec.strategy.type',
          });
        }
        rollingUpdateCauses(asObj(asObj(spec['strategy'])['rollingUpdate']), 'spec.strategy.rollingUpdate', out);
        if (type === 'Recreate' && asObj(spec['strategy'])['rollingUpdate'] !== undefined) {
          out.push({
            reason: 'FieldValueForbidden',
            message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            field: 'spec.strategy.rollingUpdate',
          });
        }
      }
      if (def.kind === 'DaemonSet') {
        const type = asObj(spec['updateStrategy'])['type'];
        if (type !== undefined && !['RollingUpdate', 'OnDelete'].includes(type)) {
          out.push({
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${goString(type)}: supported values: "OnDelete", "RollingUpdate"`,
            field: 'spec.updateStrategy.type',
          });
        }
        rollingUpdateCauses(asObj(asObj(spec['updateStrategy'])['rollingUpdate']), 'spec.updateStrategy.rollingUpdate', out);
      }
      if (def.kind === 'StatefulSet') {
        const policy = spec['podManagementPolicy'];
        if (policy !== undefined && !['OrderedReady', 'Parallel'].includes(policy)) {
          out.push({
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${goString(policy)}: supported values: "OrderedReady", "Parallel"`,
            field: 'spec.podManagementPolicy',
          });
        }
      }
      immutableSelector(old, o, out);
      if (def.kind === 'StatefulSet' && old !== undefined) statefulSetUpdateCauses(old, o, out);
      break;
    }
    case 'batch/Job':
      jobCauses(o, old, out);
      break;
    case 'batch/CronJob':
      cronJobCauses(o, out);
      break;
    case 'policy/PodDisruptionBudget':
      pdbCauses(o, out);
      break;
    case 'discovery.k8s.io/EndpointSlice':
      endpointSliceCauses(o, out);
      break;
    default:
      break;
  }
  return out;
}
