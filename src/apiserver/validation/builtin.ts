import type { Cause } from '../crd/schema.ts';
import type { ResourceDef } from '../resources.ts';
import type { KObj } from '../store.ts';
import { asObj, asList } from '../kobj.ts';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from './names.ts';
import { workloadCauses } from '../workloads/validation.ts';

/**
 * Validation of the built-in kinds for the mistakes users make (kube-apiserver's messages, field paths and
 * reasons): required fields, DNS names, enums, port ranges, and fields that may not change on update.
 */

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const required = (field: string): Cause => ({ reason: 'FieldValueRequired', message: 'Required value', field });
const badValue = (field: string, v: unknown, why: string): Cause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(v)}: ${why}`,
  field,
});
const notSupported = (field: string, v: unknown, allowed: string[]): Cause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
  field,
});
const immutable = (field: string, v: unknown): Cause => badValue(field, v, 'field is immutable');

function labelKeyOk(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  const name = slash < 0 ? k : k.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** ownerReferences the garbage collector can follow: every part named, at most one controller. */
function ownerReferenceCauses(md: KObj): Cause[] {
  const out: Cause[] = [];
  const refs = asList(md['ownerReferences']);
  const parts: [string, string][] = [
    ['apiVersion', 'version'],
    ['kind', 'kind'],
    ['name', 'name'],
    ['uid', 'uid'],
  ];
  for (const r of refs) {
    for (const [field, word] of parts) {
      if (typeof r[field] !== 'string' || r[field] === '') out.push(badValue(`metadata.ownerReferences.${field}`, r[field] ?? '', `${word} must not be empty`));
    }
  }
  const controllers = refs.filter((r) => r['controller'] === true);
  if (controllers.length > 1) {
    out.push(
      badValue(
        'metadata.ownerReferences',
        controllers.map((r) => r['name']),
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((r) => `${String(r['kind'])}/${String(r['name'])}`).join(' and ')}`,
      ),
    );
  }
  return out;
}

function metadataCauses(def: ResourceDef, md: KObj): Cause[] {
  const out: Cause[] = ownerReferenceCauses(md);
  const name = md['name'];
  if (typeof name === 'string') {
    if (def.group === '' && def.kind === 'Namespace' && (!DNS1123_LABEL.test(name) || name.length > 63)) out.push(badValue('metadata.name', name, LABEL_MSG));
    if (def.group === '' && def.kind === 'Service' && (!DNS1035_LABEL.test(name) || name.length > 63)) out.push(badValue('metadata.name', name, DNS1035_MSG));
  }
  for (const [k, v] of Object.entries(asObj(md['labels']))) {
    if (!labelKeyOk(k))
      out.push(
        badValue(
          'metadata.labels',
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) out.push(badValue('metadata.labels', v, LABEL_VALUE_MSG));
  }
  for (const k of Object.keys(asObj(md['annotations']))) {
    if (!labelKeyOk(k))
      out.push(
        badValue(
          'metadata.annotations',
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
  }
  return out;
}

function portCauses(field: string, v: unknown, need: boolean): Cause[] {
  if (v === undefined) return need ? [required(field)] : [];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) return [badValue(field, v, 'must be between 1 and 65535, inclusive')];
  return [];
}

const QUANTITY = /^([+-]?[0-9.]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$/;
const QUANTITY_MSG = 'must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A resource.Quantity (`500m`, `1Gi`, `2e3`, `1.5`) as a number, undefined when it is not one. */
export function parseQuantity(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY.exec(v);
  if (m === null || Number.isNaN(Number(m[1]))) return undefined;
  const n = Number(m[1]);
  const suf = m[2];
  if (suf === undefined) return n;
  if (/^[eE]/.test(suf)) return n * 10 ** Number(suf.slice(1));
  if (suf.endsWith('i')) return n * 1024 ** ('KMGTPE'.indexOf(suf[0] ?? '') + 1);
  return n * (SUFFIX[suf] ?? 1);
}

/** Quantities that parse, are not negative, and requests that do not exceed their limits. */
function resourceCauses(res: KObj, path: string): Cause[] {
  const out: Cause[] = [];
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const part of ['limits', 'requests'] as const) {
    for (const [name, q] of Object.entries(asObj(res[part]))) {
      const n = parseQuantity(q);
      if (n === undefined) out.push(badValue(`${path}.${part}[${name}]`, q, QUANTITY_MSG));
      else if (n < 0) out.push(badValue(`${path}.${part}[${name}]`, q, 'must be greater than or equal to 0'));
      else parsed[part][name] = n;
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const lim = parsed.limits[name];
    if (lim !== undefined && req > lim) {
      out.push(
        badValue(
          `${path}.requests`,
          String(asObj(res['requests'])[name]),
          `must be less than or equal to ${name} limit of ${String(asObj(res['limits'])[name])}`,
        ),
      );
    }
  }
  return out;
}

function containerCauses(list: unknown, path: string, needOne: boolean): Cause[] {
  const out: Cause[] = [];
  const cs = asList(list);
  if (needOne && cs.length === 0) return [required(path)];
  const names = new Set<string>();
  cs.forEach((c, i) => {
    const p = `${path}[${i}]`;
    const name = c['name'];
    if (name === undefined || name === '') out.push(required(`${p}.name`));
    else if (typeof name !== 'string' || !DNS1123_LABEL.test(name) || name.length > 63) out.push(badValue(`${p}.name`, name, LABEL_MSG));
    else if (names.has(name)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${p}.name` });
    else names.add(name);
    if (c['image'] === undefined || c['image'] === '') out.push(required(`${p}.image`));
    const pull = c['imagePullPolicy'];
    if (pull !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pull))
      out.push(notSupported(`${p}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']));
    out.push(...resourceCauses(asObj(c['resources']), `${p}.resources`));
    asList(c['ports']).forEach((port, j) => {
      out.push(...portCauses(`${p}.ports[${j}].containerPort`, port['containerPort'], true));
      out.push(...portCauses(`${p}.ports[${j}].hostPort`, port['hostPort'], false));
      const proto = port['protocol'];
      if (proto !== undefined && !['TCP', 'UDP', 'SCTP'].includes(proto)) out.push(notSupported(`${p}.ports[${j}].protocol`, proto, ['SCTP', 'TCP', 'UDP']));
    });
  });
  return out;
}

function podCauses(o: KObj): Cause[] {
  return podSpecCauses(asObj(o['spec']), 'spec');
}

/** The checks of a PodSpec at `p` (`spec` of a pod, `spec.template.spec` of a workload's template). */
export function podSpecCauses(spec: KObj, p: string): Cause[] {
  const out = [...containerCauses(spec['containers'], `${p}.containers`, true), ...containerCauses(spec['initContainers'], `${p}.initContainers`, false)];
  const rp = spec['restartPolicy'];
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(rp)) out.push(notSupported(`${p}.restartPolicy`, rp, ['Always', 'Never', 'OnFailure']));
  const dns = spec['dnsPolicy'];
  if (dns !== undefined && !['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'].includes(dns)) {
    out.push(notSupported(`${p}.dnsPolicy`, dns, ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']));
  }
  const volumes = new Set<string>();
  asList(spec['volumes']).forEach((v, i) => {
    const name = v['name'];
    if (name === undefined || name === '') out.push(required(`${p}.volumes[${i}].name`));
    else if (volumes.has(name)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${p}.volumes[${i}].name` });
    else volumes.add(name);
  });
  return out;
}

function serviceCauses(o: KObj): Cause[] {
  const spec = asObj(o['spec']);
  const out: Cause[] = [];
  const type = spec['type'];
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (type !== undefined && !types.includes(type)) out.push(notSupported('spec.type', type, types));
  const ports = asList(spec['ports']);
  if (ports.length === 0 && type !== 'ExternalName' && spec['clusterIP'] !== 'None') out.push(required('spec.ports'));
  ports.forEach((p, i) => {
    out.push(...portCauses(`spec.ports[${i}].port`, p['port'], true));
    if (ports.length > 1 && (p['name'] === undefined || p['name'] === '')) out.push(required(`spec.ports[${i}].name`));
    const proto = p['protocol'];
    if (proto !== undefined && !['TCP', 'UDP', 'SCTP'].includes(proto)) out.push(notSupported(`spec.ports[${i}].protocol`, proto, ['SCTP', 'TCP', 'UDP']));
  });
  return out;
}

/** Paths under `a` whose value `b` sets differently (a field `b` leaves out is not a change: it was defaulted). */
function changedPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (b === undefined) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(path);
    else for (const [i, x] of a.entries()) changedPaths(x, b[i], `${path}[${i}]`, out);
    return;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) changedPaths((a as KObj)[k], (b as KObj)[k], `${path}.${k}`, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

/** What a pod update may change: images, activeDeadlineSeconds, tolerations (additions), a first nodeName, schedulingGates. */
const POD_MUTABLE = [
  /^spec\.(containers|initContainers)\[\d+\]\.image$/,
  /^spec\.activeDeadlineSeconds$/,
  /^spec\.tolerations/,
  /^spec\.terminationGracePeriodSeconds$/,
  /^spec\.schedulingGates/,
];

function podUpdateCauses(old: KObj, o: KObj): Cause[] {
  const changed: string[] = [];
  const os = asObj(old['spec']);
  const ns = asObj(o['spec']);
  changedPaths(os, ns, 'spec', changed);
  const bad = changed.filter(
    (p) => !POD_MUTABLE.some((re) => re.test(p)) && !(p === 'spec.nodeName' && (os['nodeName'] === undefined || os['nodeName'] === '')),
  );
  if (bad.length === 0) return [];
  return [
    {
      reason: 'FieldValueForbidden',
      message: `Forbidden: pod updates may not change fields other than \`spec.containers[*].image\`,\`spec.initContainers[*].image\`,\`spec.activeDeadlineSeconds\`,\`spec.tolerations\` (only additions to existing tolerations),\`spec.terminationGracePeriodSeconds\` (allow it to be set to 1 if it was previously negative) (changed: ${bad.join(', ')})`,
      field: 'spec',
    },
  ];
}

function updateCauses(def: ResourceDef, old: KObj, o: KObj): Cause[] {
  const out: Cause[] = [];
  const kind = def.group === '' ? def.kind : '';
  if (kind === 'Pod') out.push(...podUpdateCauses(old, o));
  if (kind === 'Service') {
    const oc = asObj(old['spec'])['clusterIP'];
    const nc = asObj(o['spec'])['clusterIP'];
    if (typeof oc === 'string' && oc !== '' && nc !== undefined && nc !== oc) out.push(immutable('spec.clusterIP', nc));
  }
  if (kind === 'ConfigMap' || kind === 'Secret') {
    if (old['immutable'] === true) {
      for (const f of ['data', 'binaryData', 'stringData']) {
        if (JSON.stringify(old[f]) !== JSON.stringify(o[f]) && !(f === 'stringData' && o[f] === undefined)) {
          out.push({ reason: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set', field: f });
        }
      }
      if (o['immutable'] !== true)
        out.push({ reason: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set', field: 'immutable' });
    }
    if (kind === 'Secret' && old['type'] !== undefined && o['type'] !== old['type']) out.push(immutable('type', o['type']));
  }
  return out;
}

/** Every problem of a built-in object about to be stored (`old`: the stored one on update; `sub`: 'status' for status writes). */
export function builtinCauses(def: ResourceDef, o: KObj, old: KObj | undefined, sub: string | undefined): Cause[] {
  if (def.crd !== undefined) return [];
  const out = metadataCauses(def, asObj(o['metadata']));
  if (sub === 'status') return out;
  if (def.group === '' && def.kind === 'Pod') out.push(...podCauses(o));
  if (def.group === '' && def.kind === 'Service') out.push(...serviceCauses(o));
  if (old !== undefined) out.push(...updateCauses(def, old, o));
  out.push(...workloadCauses(def, o, old));
  return out;
}
