import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { kubectl, kubectlOk, kubectlStream, startTestServer, type TestServer } from '../../helpers/apiserver.ts';

let s: TestServer | undefined;
after(async () => {
  await s?.cleanup();
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: lamps.restart.kubeedge-ts.io}
spec:
  group: restart.kubeedge-ts.io
  scope: Cluster
  names: {plural: lamps, kind: Lamp}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {lit: {type: boolean}}}
`;

test('a CRD and its objects survive a restart of the embedded server; a watch sees custom objects change', async () => {
  s = await startTestServer();
  await kubectlOk(s, ['apply', '-f', '-'], CRD);
  await kubectlOk(s, ['apply', '-f', '-'], 'apiVersion: restart.kubeedge-ts.io/v1\nkind: Lamp\nmetadata: {name: hall}\nspec: {lit: true}\n');
  const w = kubectlStream(s, ['get', 'lamps', '-w', '-o', 'custom-columns=NAME:.metadata.name,LIT:.spec.lit']);
  try {
    await w.waitFor(/hall\s+true/);
    await kubectlOk(s, ['patch', 'lamp', 'hall', '--type=merge', '-p', '{"spec":{"lit":false}}']);
    await w.waitFor(/hall\s+false/);
  } finally {
    w.stop();
  }
  s = await s.restart();
  assert.equal(await kubectlOk(s, ['get', 'lamp', 'hall', '-o', 'jsonpath={.spec.lit}']), 'false');
  const bad = await kubectl(s, ['patch', 'lamp', 'hall', '--type=merge', '-p', '{"spec":{"lit":"yes"}}']);
  assert.match(bad.stderr, /spec\.lit: Invalid value: "string": spec\.lit in body must be of type boolean/);
});

test('after a schema change, an object keeps working: the field the schema dropped goes at the next write, under Strict too', async () => {
  if (s === undefined) s = await startTestServer();
  await kubectlOk(s, ['apply', '-f', '-'], CRD);
  await kubectlOk(s, ['apply', '-f', '-'], 'apiVersion: restart.kubeedge-ts.io/v1\nkind: Lamp\nmetadata: {name: porch}\nspec: {lit: true}\n');
  await kubectlOk(s, ['apply', '-f', '-'], CRD.replace('{lit: {type: boolean}}', '{level: {type: integer}}'));
  const r = await kubectl(s, ['patch', 'lamp', 'porch', '--type=merge', '-p', '{"spec":{"level":3}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await kubectlOk(s, ['get', 'lamp', 'porch', '-o', 'jsonpath={.spec}']), '{"level":3}');
  const typo = await kubectl(s, ['patch', 'lamp', 'porch', '--type=merge', '-p', '{"spec":{"levle":4}}']);
  assert.match(typo.stderr, /unknown field "spec\.levle"/);
});

test('deleting a CRD ends the watches of its kind', async () => {
  if (s === undefined) s = await startTestServer();
  await kubectlOk(s, ['apply', '-f', '-'], CRD);
  const w = kubectlStream(s, ['get', 'lamps', '-w']);
  try {
    await w.waitFor(/porch|NAME|No resources/);
    const exited = new Promise<number | null>((resolve) => w.child.on('exit', (code) => resolve(code)));
    await kubectlOk(s, ['delete', 'crd', 'lamps.restart.kubeedge-ts.io']);
    assert.equal(await exited, 0);
  } finally {
    w.stop();
  }
});
