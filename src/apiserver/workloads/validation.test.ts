import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.ts';
import { workloadCauses } from './validation.ts';

const deploy = findResource('apps', 'v1', 'deployments');
const job = findResource('batch', 'v1', 'jobs');
const slice = findResource('discovery.k8s.io', 'v1', 'endpointslices');

const template = (labels: Record<string, string>, restartPolicy = 'Always') => ({
  metadata: { labels },
  spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox' }] },
});

const messages = (causes: { field: string; message: string }[]) => causes.map((c) => `${c.field}: ${c.message}`);

test('Deployment: selector required, not empty, matching the template, immutable; restartPolicy Always; maxSurge and maxUnavailable not both 0', () => {
  assert.ok(deploy !== undefined);
  assert.deepEqual(messages(workloadCauses(deploy, { spec: { template: template({ app: 'a' }) } }, undefined)), ['spec.selector: Required value']);
  assert.match(
    messages(workloadCauses(deploy, { spec: { selector: {}, template: template({ app: 'a' }) } }, undefined))[0] ?? '',
    /empty selector is invalid for deployment/,
  );
  assert.deepEqual(messages(workloadCauses(deploy, { spec: { selector: { matchLabels: { app: 'b' } }, template: template({ app: 'a' }) } }, undefined)), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`',
  ]);
  const ok = { spec: { selector: { matchLabels: { app: 'a' } }, template: template({ app: 'a' }) } };
  assert.deepEqual(workloadCauses(deploy, ok, undefined), []);
  const moved = { spec: { selector: { matchLabels: { app: 'b' } }, template: template({ app: 'b' }) } };
  assert.match(messages(workloadCauses(deploy, moved, ok))[0] ?? '', /^spec\.selector: Invalid value: .*field is immutable$/);
  assert.deepEqual(messages(workloadCauses(deploy, { spec: { ...ok.spec, template: template({ app: 'a' }, 'Never') } }, undefined)), [
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ]);
  assert.deepEqual(messages(workloadCauses(deploy, { spec: { ...ok.spec, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } } }, undefined)), [
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0',
  ]);
  assert.deepEqual(messages(workloadCauses(deploy, { spec: { ...ok.spec, replicas: -1 } }, undefined)), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  ]);
});

test('Job: the selector must be the generated one unless manualSelector; restartPolicy OnFailure or Never', () => {
  assert.ok(job !== undefined);
  const uid = '1f0c';
  const generated = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const base = { metadata: { uid }, spec: { selector: generated, template: template({ 'batch.kubernetes.io/controller-uid': uid }, 'Never') } };
  assert.deepEqual(workloadCauses(job, base, undefined), []);
  assert.match(
    messages(workloadCauses(job, { ...base, spec: { ...base.spec, selector: { matchLabels: { app: 'x' } } } }, undefined))[0] ?? '',
    /`selector` not auto-generated/,
  );
  const changed = { ...base, spec: { ...base.spec, template: template({ 'batch.kubernetes.io/controller-uid': uid }, 'OnFailure') } };
  assert.deepEqual(messages(workloadCauses(job, changed, base)), ['spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable']);
  assert.deepEqual(workloadCauses(job, changed, { ...base, spec: { ...base.spec, suspend: true } }), []);
  assert.deepEqual(messages(workloadCauses(job, { ...base, spec: { ...base.spec, template: template({}, 'Always') } }, undefined)), [
    'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
  ]);
});

test('EndpointSlice: addressType required and one of IPv4, IPv6, FQDN; each endpoint has an address', () => {
  assert.ok(slice !== undefined);
  assert.deepEqual(messages(workloadCauses(slice, { endpoints: [{ addresses: [] }] }, undefined)), [
    'addressType: Required value',
    'endpoints[0].addresses: Required value: must contain at least 1 address',
  ]);
  assert.match(messages(workloadCauses(slice, { addressType: 'IPv5' }, undefined))[0] ?? '', /Unsupported value: "IPv5"/);
});

test('ownerReferences must name apiVersion, kind, name and uid, and at most one may be the controller', async () => {
  const { builtinCauses } = await import('../validation/builtin.ts');
  const cm = findResource('', 'v1', 'configmaps');
  assert.ok(cm !== undefined);
  const ref = (name: string, controller: boolean) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: `u-${name}`, controller });
  assert.deepEqual(builtinCauses(cm, { metadata: { name: 'x', ownerReferences: [ref('a', true), ref('b', false)] } }, undefined, undefined), []);
  assert.deepEqual(
    messages(builtinCauses(cm, { metadata: { name: 'x', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p' }] } }, undefined, undefined)),
    ['metadata.ownerReferences.uid: Invalid value: "": uid must not be empty'],
  );
  assert.match(
    messages(builtinCauses(cm, { metadata: { name: 'x', ownerReferences: [ref('a', true), ref('b', true)] } }, undefined, undefined))[0] ?? '',
    /Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/a and ReplicaSet\/b/,
  );
});
