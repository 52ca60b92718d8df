import type { ResourceDef } from '../resources.ts';
import { invalidCauses } from '../status.ts';
import type { KObj } from '../store.ts';
import { DNS1123_LABEL } from '../validation/names.ts';
import { listTypesOf, structuralErrors, type Cause, type JsonSchema } from './schema.ts';
import { rfc3339 } from '../defaults.ts';
import { asObj, asList } from '../kobj.ts';

export type PrinterColumn = { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string };

export type ScaleInfo = { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };

/** What a CRD-defined ResourceDef carries besides the names (one per served version). */
export type CrdVersionInfo = {
  crdName: string;
  storageVersion: string;
  schema?: JsonSchema;
  columns: PrinterColumn[];
  scale?: ScaleInfo;
  /** Set for a version marked `deprecated`: the Warning every request to it gets. */
  deprecationWarning?: string;
};

const KIND_RE = /^[A-Za-z][A-Za-z0-9]*$/;

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Kubernetes version priority (apimachinery's CompareKubeAwareVersionStrings): GA before beta before alpha,
 * higher numbers first, names that are not Kubernetes versions last in lexical order. Negative: `a` first.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return undefined;
    return [Number(m[1]), m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined || pb === undefined) return pa !== undefined ? -1 : pb !== undefined ? 1 : a.localeCompare(b);
  if (pa[1] !== pb[1]) return pb[1] - pa[1];
  if (pa[0] !== pb[0]) return pb[0] - pa[0];
  return pb[2] - pa[2];
}

/** The served kinds of a CRD, one ResourceDef per served version, best version first. */
export function defsOfCrd(crd: KObj): ResourceDef[] {
  const spec = asObj(crd['spec']);
  const names = asObj(spec['names']);
  const versions = asList(spec['versions']);
  const storageVersion = String(versions.find((v) => v['storage'] === true)?.['name'] ?? versions[0]?.['name'] ?? '');
  const out: ResourceDef[] = [];
  for (const v of versions) {
    if (v['served'] !== true) continue;
    const sub = asObj(v['subresources']);
    const scale = sub['scale'] === undefined ? undefined : asObj(sub['scale']);
    const schema = asObj(v['schema'])['openAPIV3Schema'];
    const info: CrdVersionInfo = {
      crdName: String(asObj(crd['metadata'])['name']),
      storageVersion,
      columns: asList(v['additionalPrinterColumns']) as PrinterColumn[],
      ...(v['deprecated'] === true
        ? {
            deprecationWarning:
              typeof v['deprecationWarning'] === 'string' ? v['deprecationWarning'] : `${spec['group']}/${v['name']} ${names['kind']} is deprecated`,
          }
        : {}),
      ...(typeof schema === 'object' && schema !== null ? { schema: schema as JsonSchema } : {}),
      ...(scale === undefined
        ? {}
        : {
            scale: {
              specReplicasPath: String(scale['specReplicasPath'] ?? '.spec.replicas'),
              statusReplicasPath: String(scale['statusReplicasPath'] ?? '.status.replicas'),
              ...(typeof scale['labelSelectorPath'] === 'string' ? { labelSelectorPath: scale['labelSelectorPath'] } : {}),
            },
          }),
    };
    const categories = strs(names['categories']);
    const listTypes = info.schema === undefined ? {} : listTypesOf(info.schema);
    out.push({
      group: String(spec['group']),
      version: String(v['name']),
      kind: String(names['kind']),
      plural: String(names['plural']),
      singular: String(names['singular'] ?? String(names['kind']).toLowerCase()),
      namespaced: spec['scope'] !== 'Cluster',
      shortNames: strs(names['shortNames']),
      subresources: [...(sub['status'] !== undefined ? ['status'] : []), ...(scale !== undefined ? ['scale'] : [])],
      ...(categories.length > 0 ? { categories } : {}),
      ...(Object.keys(listTypes).length > 0 ? { listTypes } : {}),
      crd: info,
    });
  }
  return out.sort((a, b) => compareKubeVersions(a.version, b.version));
}

function nameErrors(names: KObj, path: string): Cause[] {
  const out: Cause[] = [];
  const need = (k: string, re: RegExp, what: string) => {
    const v = names[k];
    if (v === undefined || v === '') out.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${path}.${k}` });
    else if (typeof v !== 'string' || !re.test(v))
      out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: ${what}`, field: `${path}.${k}` });
  };
  need('plural', DNS1123_LABEL, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
  need('kind', KIND_RE, 'must be a valid kind name (letters and digits, starting with a letter)');
  if (names['singular'] !== undefined) need('singular', DNS1123_LABEL, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
  if (names['listKind'] !== undefined) need('listKind', KIND_RE, 'must be a valid kind name');
  strs(names['shortNames']).forEach((s, i) => {
    if (!DNS1123_LABEL.test(s))
      out.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(s)}: must be a lowercase RFC 1123 label`,
        field: `${path}.shortNames[${i}]`,
      });
  });
  return out;
}

/** The errors a CRD has, as kube-apiextensions-apiserver reports them. */
export function crdErrors(crd: KObj, old: KObj | undefined): Cause[] {
  const out: Cause[] = [];
  const spec = asObj(crd['spec']);
  const names = asObj(spec['names']);
  const group = spec['group'];
  if (typeof group !== 'string' || group === '') out.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.group' });
  else if (!group.includes('.'))
    out.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${group}": should be a domain with at least one dot`, field: 'spec.group' });
  out.push(...nameErrors(names, 'spec.names'));
  const name = String(asObj(crd['metadata'])['name'] ?? '');
  if (typeof group === 'string' && typeof names['plural'] === 'string' && name !== `${names['plural']}.${group}`) {
    out.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`, field: 'metadata.name' });
  }
  if (spec['scope'] !== 'Namespaced' && spec['scope'] !== 'Cluster') {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(spec['scope'] ?? '')}: supported values: "Cluster", "Namespaced"`,
      field: 'spec.scope',
    });
  }
  const versions = asList(spec['versions']);
  if (versions.length === 0)
    out.push({ reason: 'FieldValueInvalid', message: 'Invalid value: null: must have exactly one version marked as storage version', field: 'spec.versions' });
  else if (versions.filter((v) => v['storage'] === true).length !== 1) {
    out.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v['name']))}: must have exactly one version marked as storage version`,
      field: 'spec.versions',
    });
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    const vn = v['name'];
    if (typeof vn !== 'string' || !DNS1123_LABEL.test(vn))
      out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(vn ?? '')}: must be a DNS label`, field: `${p}.name` });
    else if (seen.has(vn)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${vn}"`, field: `${p}.name` });
    else seen.add(vn);
    const schema = asObj(v['schema'])['openAPIV3Schema'];
    if (schema === undefined) out.push({ reason: 'FieldValueRequired', message: 'Required value: schemas are required', field: `${p}.schema.openAPIV3Schema` });
    else out.push(...structuralErrors(schema, `${p}.schema.openAPIV3Schema`));
    asList(v['additionalPrinterColumns']).forEach((c, j) => {
      if (typeof c['jsonPath'] !== 'string' || !c['jsonPath'].startsWith('.')) {
        out.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(c['jsonPath'] ?? '')}: must be a simple json path starting with .`,
          field: `${p}.additionalPrinterColumns[${j}].jsonPath`,
        });
      }
    });
  });
  if (old !== undefined) {
    const os = asObj(old['spec']);
    if (os['scope'] !== spec['scope'])
      out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec['scope'])}: field is immutable`, field: 'spec.scope' });
    if (os['group'] !== spec['group'])
      out.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec['group'])}: field is immutable`, field: 'spec.group' });
  }
  return out;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, old: KObj[]): KObj {
  const prev = old.find((c) => c['type'] === type && c['status'] === status);
  return { type, status, lastTransitionTime: prev?.['lastTransitionTime'] ?? rfc3339(), reason, message };
}

/** Why `crd`'s names clash with another CRD of the same group (kind, list kind, singular or a short name), if they do. */
export function nameConflict(crd: KObj, others: KObj[]): { reason: string; message: string } | undefined {
  const spec = asObj(crd['spec']);
  const names = asObj(spec['names']);
  const mine = String(asObj(crd['metadata'])['name']);
  for (const o of others) {
    if (String(asObj(o['metadata'])['name']) === mine || asObj(o['spec'])['group'] !== spec['group']) continue;
    const theirs = asObj(asObj(o['status'])['acceptedNames']);
    const taken = new Set([theirs['plural'], theirs['singular'], ...strs(theirs['shortNames'])].filter((x) => typeof x === 'string'));
    for (const n of [names['singular'], ...strs(names['shortNames'])]) {
      if (typeof n === 'string' && taken.has(n))
        return { reason: n === names['singular'] ? 'SingularConflict' : 'ShortNamesConflict', message: `"${n}" is already in use` };
    }
    if (names['kind'] !== undefined && (names['kind'] === theirs['kind'] || names['kind'] === theirs['listKind']))
      return { reason: 'KindConflict', message: `"${names['kind']}" is already in use` };
    if (names['listKind'] !== undefined && (names['listKind'] === theirs['listKind'] || names['listKind'] === theirs['kind']))
      return { reason: 'ListKindConflict', message: `"${names['listKind']}" is already in use` };
  }
  return undefined;
}

/** Established=True: the CRD's names were accepted and its kinds are served. */
export function isEstablished(crd: KObj): boolean {
  return asList(asObj(crd['status'])['conditions']).some((c) => c['type'] === 'Established' && c['status'] === 'True');
}

/**
 * Admission of a CustomResourceDefinition: validation (422 with causes), defaults (singular, listKind,
 * conversion), and the status a real server converges to at once: names accepted (or the clash with another
 * CRD of the group named, and then nothing served), Established, storedVersions.
 */
export function admitCrd(crd: KObj, old: KObj | undefined, others: KObj[] = []): void {
  const spec = asObj(crd['spec']);
  crd['spec'] = spec;
  const names = asObj(spec['names']);
  spec['names'] = names;
  if (typeof names['kind'] === 'string') {
    names['singular'] ??= names['kind'].toLowerCase();
    names['listKind'] ??= `${names['kind']}List`;
  }
  spec['conversion'] ??= { strategy: 'None' };
  const causes = crdErrors(crd, old);
  if (causes.length > 0) throw invalidCauses('CustomResourceDefinition', 'apiextensions.k8s.io', String(asObj(crd['metadata'])['name'] ?? ''), causes);
  const oldStatus = asObj(old?.['status']);
  const oldConds = asList(oldStatus['conditions']);
  const storage = String(asList(spec['versions']).find((v) => v['storage'] === true)?.['name']);
  const stored = strs(oldStatus['storedVersions']);
  if (!stored.includes(storage)) stored.push(storage);
  const clash = nameConflict(crd, others);
  crd['status'] = {
    conditions:
      clash === undefined
        ? [
            condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', oldConds),
            condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', oldConds),
          ]
        : [
            condition('NamesAccepted', 'False', clash.reason, clash.message, oldConds),
            condition('Established', 'False', 'NotAccepted', 'not all names are accepted', oldConds),
          ],
    acceptedNames: clash === undefined ? { ...names } : asObj(oldStatus['acceptedNames']),
    storedVersions: stored,
  };
}
