import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDefaults, prune, validate, type JsonSchema } from './schema.ts';
import { admitCrd, compareKubeVersions, defsOfCrd, isEstablished } from './crd.ts';
import { ApiError } from '../status.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['mode'],
      properties: {
        mode: { type: 'string', enum: ['fast', 'slow'] },
        replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
        name: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 5 },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'object', properties: { k: { type: 'string' } } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

test('validation names every failing field the way kube-apiserver does', () => {
  const causes = validate(schema, { spec: { mode: 'medium', replicas: 11, name: 'A1', port: 1.5, labels: { a: 3 } } });
  assert.deepEqual(
    causes.map((c) => `${c.field}: ${c.message}`),
    [
      'spec.mode: Unsupported value: "medium": supported values: "fast", "slow"',
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
      'spec.name: Invalid value: "A1": spec.name in body should match \'^[a-z]+$\'',
      'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
      'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
    ],
  );
  assert.deepEqual(
    validate(schema, { spec: {} }).map((c) => [c.field, c.reason]),
    [['spec.mode', 'FieldValueRequired']],
  );
  assert.deepEqual(validate(schema, { spec: { mode: 'fast', name: 'abcdef' } })[0]?.reason, 'FieldValueTooLong');
  assert.deepEqual(validate(schema, { spec: { mode: 'fast', port: 'http', tags: [{ k: 'x' }] } }), []);
});

test('pruning drops unknown fields and reports their paths, but keeps what preserve-unknown-fields covers', () => {
  const o = {
    apiVersion: 'x/v1',
    kind: 'X',
    metadata: { name: 'a' },
    spec: { mode: 'fast', typo: 1, tags: [{ k: 'a', z: 2 }], extra: { any: { thing: 1 } } },
    junk: true,
  };
  assert.deepEqual(prune(schema, o), ['spec.typo', 'spec.tags[0].z', 'junk']);
  assert.deepEqual(o, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { mode: 'fast', tags: [{ k: 'a' }], extra: { any: { thing: 1 } } } });
});

test('defaults fill in missing fields only', () => {
  const a: Record<string, any> = { spec: { mode: 'fast' } };
  applyDefaults(schema, a);
  assert.equal(a['spec']['replicas'], 1);
  const b: Record<string, any> = { spec: { mode: 'fast', replicas: 0 } };
  applyDefaults(schema, b);
  assert.equal(b['spec']['replicas'], 0);
});

const crd = () => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
    versions: [
      { name: 'v1alpha1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object' } },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
      },
    ],
  },
});

test('a CRD is defaulted, gets Established and NamesAccepted, and serves each version', () => {
  const c: Record<string, any> = crd();
  admitCrd(c, undefined);
  assert.equal(c['spec']['names']['singular'], 'widget');
  assert.equal(c['spec']['names']['listKind'], 'WidgetList');
  assert.deepEqual(
    c['status']['conditions'].map((x: any) => [x.type, x.status]),
    [
      ['NamesAccepted', 'True'],
      ['Established', 'True'],
    ],
  );
  assert.deepEqual(c['status']['storedVersions'], ['v1']);
  const defs = defsOfCrd(c);
  assert.deepEqual(
    defs.map((d) => [d.version, d.subresources, d.crd?.storageVersion]),
    [
      ['v1', ['status', 'scale'], 'v1'],
      ['v1alpha1', [], 'v1'],
    ],
  );
  assert.deepEqual(defs[0]?.shortNames, ['wd']);
});

test('a CRD with two storage versions, a wrong name or no schema is Invalid', () => {
  const c: Record<string, any> = crd();
  c['metadata']['name'] = 'gadgets.example.com';
  c['spec']['versions'][0].storage = true;
  delete c['spec']['versions'][1].schema;
  assert.throws(
    () => admitCrd(c, undefined),
    (e: unknown) =>
      e instanceof ApiError &&
      e.httpCode === 422 &&
      /metadata\.name: Invalid value: "gadgets\.example\.com"/.test(e.message) &&
      /must have exactly one version marked as storage version/.test(e.message) &&
      /spec\.versions\[1\]\.schema\.openAPIV3Schema: Required value/.test(e.message),
  );
});

test('versions sort as Kubernetes sorts them', () => {
  assert.deepEqual(['v1alpha1', 'v2beta1', 'v1', 'v1beta2', 'foo', 'v2'].sort(compareKubeVersions), ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1alpha1', 'foo']);
});

test('a CRD whose kind or short name another CRD of the group has already is not Established', () => {
  const first: Record<string, any> = crd();
  admitCrd(first, undefined);
  const second: Record<string, any> = crd();
  second['metadata']['name'] = 'gizmos.example.com';
  second['spec']['names'] = { plural: 'gizmos', kind: 'Gizmo', shortNames: ['wd'] };
  admitCrd(second, undefined, [first]);
  assert.equal(isEstablished(second), false);
  const names = second['status']['conditions'].find((c: any) => c.type === 'NamesAccepted');
  assert.deepEqual([names.status, names.reason, names.message], ['False', 'ShortNamesConflict', '"wd" is already in use']);
  const third: Record<string, any> = crd();
  third['metadata']['name'] = 'others.example.com';
  third['spec']['names'] = { plural: 'others', singular: 'other', kind: 'Widget' };
  admitCrd(third, undefined, [first]);
  assert.equal(third['status']['conditions'][0].reason, 'KindConflict');
  admitCrd(first, first, [first, second, third]);
  assert.equal(isEstablished(first), true, 'its own entry is no conflict');
});

test('list types set and map refuse duplicates; embedded resources keep apiVersion, kind and metadata', () => {
  const s: JsonSchema = {
    type: 'object',
    properties: {
      tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } },
      },
      template: {
        type: 'object',
        'x-kubernetes-embedded-resource': true,
        properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    },
  };
  assert.deepEqual(
    validate(s, {
      tags: ['a', 'b', 'a'],
      ports: [
        { name: 'http', port: 80 },
        { name: 'http', port: 81 },
      ],
    }).map((c) => `${c.field}: ${c.message}`),
    ['tags[2]: Duplicate value: "a"', 'ports[1]: Duplicate value: map[name:http]'],
  );
  const o = { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { any: 1 }, junk: 1 } };
  assert.deepEqual(prune(s, o), ['template.junk']);
  assert.deepEqual(o.template, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { any: 1 } });
});

test("a CRD version's list types (x-kubernetes-list-type, -list-map-keys) reach its ResourceDef for server-side apply", () => {
  const c: Record<string, any> = crd();
  c['spec']['versions'][1]['schema']['openAPIV3Schema'] = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name', 'protocol'],
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, hosts: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } },
            },
          },
          args: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
        },
      },
    },
  };
  admitCrd(c, undefined);
  const [v1, v1alpha1] = defsOfCrd(c);
  assert.deepEqual(v1?.listTypes, {
    'spec.ports': { type: 'map', keys: ['name', 'protocol'] },
    'spec.ports.hosts': { type: 'set' },
    'spec.args': { type: 'atomic' },
  });
  assert.equal(v1alpha1?.listTypes, undefined);
});
