import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES, type ResourceDef } from '../resources.ts';
import { builtinCauses, parseQuantity } from './builtin.ts';
import { unknownFields } from './hooks.ts';

const def = (kind: string): ResourceDef => {
  const d = RESOURCES.find((r) => r.group === '' && r.kind === kind);
  if (d === undefined) throw new Error(kind);
  return d;
};

const fields = (causes: { field: string; reason: string }[]) => causes.map((c) => `${c.field} ${c.reason}`);

test('pod: containers, names, images, ports and enums are checked', () => {
  const pod = {
    metadata: { name: 'p', labels: { 'app.kubernetes.io/name': 'ok', 'bad key!': 'x' } },
    spec: {
      restartPolicy: 'Sometimes',
      containers: [{ name: 'Web', image: 'nginx', ports: [{ containerPort: 0 }] }, { name: 'b' }, { name: 'b', image: 'x' }],
      volumes: [{ name: 'v' }, { name: 'v' }],
    },
  };
  assert.deepEqual(fields(builtinCauses(def('Pod'), pod, undefined, undefined)), [
    'metadata.labels FieldValueInvalid',
    'spec.containers[0].name FieldValueInvalid',
    'spec.containers[0].ports[0].containerPort FieldValueInvalid',
    'spec.containers[1].image FieldValueRequired',
    'spec.containers[2].name FieldValueDuplicate',
    'spec.restartPolicy FieldValueNotSupported',
    'spec.volumes[1].name FieldValueDuplicate',
  ]);
  assert.deepEqual(fields(builtinCauses(def('Pod'), { metadata: { name: 'p' }, spec: {} }, undefined, undefined)), ['spec.containers FieldValueRequired']);
});

test('pod updates may change images but not the rest of the spec; status writes skip spec checks', () => {
  const old = {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'a:1', terminationMessagePath: '/dev/termination-log' }], restartPolicy: 'Always' },
  };
  const image = structuredClone(old);
  image.spec.containers[0]!.image = 'a:2';
  assert.deepEqual(builtinCauses(def('Pod'), image, old, undefined), []);
  // A field left out of the new object (defaulted on create) is not a change.
  assert.deepEqual(builtinCauses(def('Pod'), { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'a:1' }] } }, old, undefined), []);
  const policy = structuredClone(old);
  policy.spec.restartPolicy = 'Never';
  const c = builtinCauses(def('Pod'), policy, old, undefined);
  assert.equal(c[0]?.field, 'spec');
  assert.match(c[0]?.message ?? '', /Forbidden: pod updates may not change fields other than .*\(changed: spec\.restartPolicy\)/);
  assert.deepEqual(builtinCauses(def('Pod'), policy, old, 'status'), []);
});

test('service and namespace names, service ports, immutable ConfigMaps and Secret types', () => {
  assert.deepEqual(
    fields(builtinCauses(def('Service'), { metadata: { name: '1a' }, spec: { ports: [{ port: 80 }, { port: 99999, name: 'b' }] } }, undefined, undefined)),
    ['metadata.name FieldValueInvalid', 'spec.ports[0].name FieldValueRequired', 'spec.ports[1].port FieldValueInvalid'],
  );
  assert.deepEqual(fields(builtinCauses(def('Namespace'), { metadata: { name: 'a.b' } }, undefined, undefined)), ['metadata.name FieldValueInvalid']);
  const cm = { metadata: { name: 'c' }, immutable: true, data: { a: '1' } };
  assert.deepEqual(fields(builtinCauses(def('ConfigMap'), { ...cm, data: { a: '2' } }, cm, undefined)), ['data FieldValueForbidden']);
  const sec = { metadata: { name: 's' }, type: 'Opaque' };
  assert.deepEqual(fields(builtinCauses(def('Secret'), { ...sec, type: 'kubernetes.io/tls' }, sec, undefined)), ['type FieldValueInvalid']);
});

test('unknown fields of a built-in kind are found through its OpenAPI schema, metadata included', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labelz: {} },
    spec: { contianers: [], containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } }, imagePullPolicey: 'x' }] },
    status: { phase: 'Running' },
  };
  assert.deepEqual(unknownFields(def('Pod'), pod), ['spec.contianers', 'spec.containers[0].imagePullPolicey', 'metadata.labelz']);
  assert.deepEqual(unknownFields(def('Service'), { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 'http' }] } }), []);
});

test('resource quantities parse as Kubernetes writes them; a request above its limit or a bad quantity is Invalid', () => {
  assert.deepEqual(['500m', '1Gi', '2e3', '1.5', '128974848', '129M', 3, '1x', ''].map(parseQuantity), [
    0.5,
    2 ** 30,
    2000,
    1.5,
    128974848,
    129e6,
    3,
    undefined,
    undefined,
  ]);
  const pod = (resources: unknown) => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', resources }] } });
  assert.deepEqual(
    builtinCauses(def('Pod'), pod({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '512Mi' } }), undefined, undefined),
    [],
  );
  assert.deepEqual(
    builtinCauses(def('Pod'), pod({ limits: { cpu: '1' }, requests: { cpu: '2', memory: '1 Gi' } }), undefined, undefined).map(
      (c) => `${c.field}: ${c.message}`,
    ),
    [
      'spec.containers[0].resources.requests[memory]: Invalid value: "1 Gi": must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$',
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
  );
});
