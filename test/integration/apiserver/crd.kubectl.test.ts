import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { conformanceTarget, KUBECTL_BIN, type Target } from '../../helpers/conformance.ts';
import { skipUnless } from '../../helpers/skip.ts';

const CRDS = join(import.meta.dirname, '..', '..', '..', 'manifests', 'crds');
const NS = 'crd-conformance';

const device = (name: string, spec: string) => `apiVersion: devices.kubeedge.io/v1beta1
kind: Device
metadata: {name: ${name}, namespace: ${NS}}
spec:
${spec}`;

const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.conformance.kubeedge-ts.io}
spec:
  group: conformance.kubeedge-ts.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg], categories: [kets-test]}
  versions:
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: string}, replicas: {type: integer}}}
          status: {type: object, properties: {replicas: {type: integer}}}
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: string, enum: [small, large]}
              replicas: {type: integer, minimum: 0, default: 1}
              label: {type: string, pattern: '^[a-z]+$', maxLength: 8}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, properties: {replicas: {type: integer}}}
`;

describe('CustomResourceDefinitions through kubectl', { skip: skipUnless(KUBECTL_BIN !== undefined, 'kubectl') }, () => {
  let t: Target;
  before(async () => {
    t = await conformanceTarget();
    await t.kubectlOk(['create', 'namespace', NS]);
  });
  after(async () => {
    if (t === undefined) return;
    await t.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await t.kubectl(['delete', 'crd', 'widgets.conformance.kubeedge-ts.io', '--ignore-not-found']);
    await t.cleanup();
  });

  test('an object of a kind no CRD defines yet is refused as kubectl is refused by a real server', async () => {
    const r = await t.kubectl(
      ['apply', '-f', '-'],
      device('early', '  nodeName: edge-1\n').replace('devices.kubeedge.io/v1beta1', 'not-yet.kubeedge-ts.io/v1'),
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no matches for kind "Device" in version "not-yet\.kubeedge-ts\.io\/v1"/);
  });

  test("KubeEdge's device CRDs apply and are Established; their kinds are discoverable at once", async () => {
    const out = await t.kubectlOk(['apply', '-f', join(CRDS, 'devices_v1beta1_device.yaml'), '-f', join(CRDS, 'devices_v1beta1_devicemodel.yaml')]);
    assert.match(out, /customresourcedefinition\.apiextensions\.k8s\.io\/devices\.devices\.kubeedge\.io (created|configured|unchanged)/);
    await t.kubectlOk(['wait', '--for=condition=Established', '--timeout=30s', 'crd/devices.devices.kubeedge.io', 'crd/devicemodels.devices.kubeedge.io']);
    const cond = await t.kubectlOk(['get', 'crd', 'devices.devices.kubeedge.io', '-o', 'jsonpath={.status.conditions[?(@.type=="NamesAccepted")].status}']);
    assert.equal(cond, 'True');
    const res = await t.kubectlOk(['api-resources', '--api-group=devices.kubeedge.io']);
    assert.match(res, /devices\s+devices\.kubeedge\.io\/v1beta1\s+true\s+Device/);
    assert.match(res, /devicemodels\s+devices\.kubeedge\.io\/v1beta1\s+true\s+DeviceModel/);
  });

  test('a Device that violates the schema is refused naming the field; a good one is stored and listed with printer columns', async () => {
    const bad = await t.kubectl(
      ['apply', '-f', '-'],
      device('bad-thermo', '  deviceModelRef: {name: thermo}\n  nodeName: edge-1\n  properties:\n  - {name: temp, collectCycle: often}\n'),
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.properties\[0\]\.collectCycle/);
    assert.match(bad.stderr, /integer/);
    const typo = await t.kubectl(['apply', '-f', '-'], device('typo-thermo', '  deviceModelRef: {name: thermo}\n  nodeNmae: edge-1\n'));
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /unknown field "spec\.nodeNmae"/);
    const good = await t.kubectlOk(
      ['apply', '-f', '-'],
      device(
        'thermo-1',
        '  deviceModelRef: {name: thermo}\n  nodeName: edge-1\n  protocol: {protocolName: modbus}\n  properties:\n  - {name: temp, collectCycle: 1000}\n',
      ),
    );
    assert.match(good, /device\.devices\.kubeedge\.io\/thermo-1 created/);
    const list = await t.kubectlOk(['get', 'devices', '-n', NS]);
    assert.match(list, /^NAME\s+NODE\s+MODEL\s+PROTOCOL\s+AGE\n/);
    assert.match(list, /thermo-1\s+edge-1\s+thermo\s+modbus\s+\d+s/);
    assert.doesNotMatch(list, /bad-thermo|typo-thermo/);
  });

  test('kubectl explain device.spec prints the schema of the CRD', async () => {
    const out = await t.kubectlOk(['explain', 'device.spec']);
    assert.match(out, /KIND:\s+Device/);
    assert.match(out, /VERSION:\s+v1beta1/);
    assert.match(out, /deviceModelRef\s+<Object>/);
    assert.match(out, /nodeName\s+<string>/);
    assert.match(out, /properties\s+<\[\]Object>/);
    const deeper = await t.kubectlOk(['explain', 'device.spec.properties.collectCycle']);
    assert.match(deeper, /FIELD: collectCycle <integer>/);
  });

  test('a CRD with two versions, status and scale subresources, short names, categories, defaults and pruning', async () => {
    await t.kubectlOk(['apply', '-f', '-'], WIDGET_CRD);
    await t.kubectlOk(['wait', '--for=condition=Established', '--timeout=30s', 'crd/widgets.conformance.kubeedge-ts.io']);
    const w = (name: string, spec: string) =>
      `apiVersion: conformance.kubeedge-ts.io/v1\nkind: Widget\nmetadata: {name: ${name}, namespace: ${NS}}\nspec: ${spec}\n`;
    // Defaults, preserve-unknown-fields, and pruning of an unknown field under fieldValidation=Ignore (--validate=false).
    await t.kubectlOk(['apply', '--validate=false', '-f', '-'], w('w1', '{size: small, junk: 1, extra: {any: {thing: 1}}}'));
    const got = JSON.parse(await t.kubectlOk(['get', 'wdg', 'w1', '-n', NS, '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.deepEqual(got.spec, { size: 'small', replicas: 1, extra: { any: { thing: 1 } } });
    // Several errors at once: enum, pattern, maxLength, missing required.
    const bad = await t.kubectl(['create', '-f', '-'], w('w2', '{size: huge, label: ABCDEFGHIJ}'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size: Unsupported value: "huge"/);
    assert.match(bad.stderr, /spec\.label/);
    const missing = await t.kubectl(['create', '-f', '-'], w('w3', '{replicas: 2}'));
    assert.match(missing.stderr, /spec\.size: Required value/);
    // The other served version reads the same object.
    const old = await t.kubectl(['get', 'widgets.v1alpha1.conformance.kubeedge-ts.io', 'w1', '-n', NS, '-o', 'jsonpath={.apiVersion} {.spec.size}']);
    assert.equal(old.stdout, 'conformance.kubeedge-ts.io/v1alpha1 small');
    assert.match(old.stderr, /Warning: conformance\.kubeedge-ts\.io\/v1alpha1 Widget is deprecated/);
    const listed = await t.kubectlOk(['get', 'widgets.v1alpha1.conformance.kubeedge-ts.io', '-n', NS, '-o', 'jsonpath={.items[*].apiVersion}']);
    assert.equal(listed, 'conformance.kubeedge-ts.io/v1alpha1');
    // Categories and printer columns.
    const cat = await t.kubectlOk(['get', 'kets-test', '-n', NS]);
    assert.match(cat, /NAME\s+SIZE\s+REPLICAS\s+AGE/);
    assert.match(cat, /w1\s+small\s+1\s+/);
    // Scale subresource.
    assert.match(await t.kubectlOk(['scale', 'widget/w1', '-n', NS, '--replicas=3']), /scaled/);
    assert.equal(await t.kubectlOk(['get', 'widget', 'w1', '-n', NS, '-o', 'jsonpath={.spec.replicas}']), '3');
    // The scale write is recorded in managedFields like any other write, under its subresource.
    const mf = await t.kubectlOk(['get', 'widget', 'w1', '-n', NS, '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].subresource}']);
    assert.match(mf, /\bscale\b/);
    // Status only through /status; a main update keeps it.
    await t.kubectlOk(['patch', 'widget', 'w1', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":3}}']);
    await t.kubectlOk(['patch', 'widget', 'w1', '-n', NS, '--type=merge', '-p', '{"spec":{"size":"large"},"status":{"replicas":9}}']);
    assert.equal(await t.kubectlOk(['get', 'widget', 'w1', '-n', NS, '-o', 'jsonpath={.spec.size} {.status.replicas}']), 'large 3');
    const scale = JSON.parse(await t.kubectlOk(['get', '--raw', `/apis/conformance.kubeedge-ts.io/v1/namespaces/${NS}/widgets/w1/scale`])) as {
      kind: string;
      spec: { replicas: number };
      status: { replicas: number };
    };
    assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.replicas], ['Scale', 3, 3]);
  });

  test('deleting a CRD removes its kind and its objects', async () => {
    await t.kubectlOk(['delete', 'crd', 'widgets.conformance.kubeedge-ts.io']);
    const gone = await t.kubectl(['get', 'widgets', '-n', NS]);
    assert.notEqual(gone.code, 0);
    // Right after the deletion kubectl may still map the name from its discovery cache: then the list is a 404.
    assert.match(gone.stderr, /the server doesn't have a resource type "widgets"|the server could not find the requested resource/);
    await t.kubectlOk(['apply', '-f', '-'], WIDGET_CRD);
    await t.kubectlOk(['wait', '--for=condition=Established', '--timeout=30s', 'crd/widgets.conformance.kubeedge-ts.io']);
    assert.equal((await t.kubectlOk(['get', 'widgets', '-n', NS, '-o', 'name'])).trim(), '');
  });

  test('every KubeEdge CRD manifest shipped with the project applies', async () => {
    const files = ['objectsync_v1alpha1.yaml', 'cluster_objectsync_v1alpha1.yaml', 'router_v1_rule.yaml', 'router_v1_ruleEndpoint.yaml'];
    files.push(
      'operations_v1alpha1_nodeupgradejob.yaml',
      'operations_v1alpha1_imageprepulljob.yaml',
      'apps_v1alpha1_edgeapplication.yaml',
      'apps_v1alpha1_nodegroup.yaml',
      'policy_v1alpha1_serviceaccountaccess.yaml',
    );
    for (const f of files) assert.match(readFileSync(join(CRDS, f), 'utf8'), /kind: CustomResourceDefinition/);
    await t.kubectlOk(['apply', ...files.flatMap((f) => ['-f', join(CRDS, f)])]);
    const res = await t.kubectlOk(['api-resources', '-o', 'name']);
    for (const r of [
      'objectsyncs.reliablesyncs.kubeedge.io',
      'rules.rules.kubeedge.io',
      'nodegroups.apps.kubeedge.io',
      'nodeupgradejobs.operations.kubeedge.io',
      'imageprepulljobs.operations.kubeedge.io',
    ]) {
      assert.match(res, new RegExp(r.replaceAll('.', '\\.')));
    }
  });
});
