import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { conformanceTarget, KUBECTL_BIN, type Target } from '../../helpers/conformance.ts';
import { skipUnless } from '../../helpers/skip.ts';

const NS = 'validation-conformance';

const pod = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}}
spec:
${spec}`;

describe('validation and OpenAPI of built-in kinds through kubectl', { skip: skipUnless(KUBECTL_BIN !== undefined, 'kubectl') }, () => {
  let t: Target;
  before(async () => {
    t = await conformanceTarget();
    await t.kubectlOk(['create', 'namespace', NS]);
  });
  after(async () => {
    if (t === undefined) return;
    await t.kubectl(['delete', 'namespace', NS, '--wait=false']);
    await t.cleanup();
  });

  test('kubectl explain pod.spec.containers prints the field, its type and its sub-fields', async () => {
    const out = await t.kubectlOk(['explain', 'pod.spec.containers']);
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /FIELD: containers <\[\]Container>/);
    assert.match(out, /image\s+<string>/);
    assert.match(out, /name\s+<string> -required-/);
    assert.match(out, /resources\s+<ResourceRequirements>/);
    const svc = await t.kubectlOk(['explain', 'service.spec.ports.targetPort']);
    assert.match(svc, /FIELD: targetPort <(IntOrString|string)>/);
    assert.match(svc, /int32 or a string/);
  });

  test('kubectl apply of a pod manifest with a misspelled field is refused naming it, and nothing is stored', async () => {
    const r = await t.kubectl(['apply', '-f', '-'], pod('typo', '  contianers:\n  - {name: c, image: busybox}\n'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec\.contianers"/);
    const get = await t.kubectl(['get', 'pod', 'typo', '-n', NS]);
    assert.match(get.stderr, /NotFound/);
  });

  test('--validate=warn stores the object and prints a warning naming the unknown field', async () => {
    const r = await t.kubectl(
      ['apply', '--validate=warn', '-f', '-'],
      pod('warned', '  containers:\n  - {name: c, image: busybox, imagePullPolicey: Never}\n'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: unknown field "spec\.containers\[0\]\.imagePullPolicey"/);
    assert.match(r.stdout, /pod\/warned created/);
  });

  test('missing required fields and bad names are 422 Invalid with the fields named', async () => {
    const noImage = await t.kubectl(['create', '-f', '-'], pod('no-image', '  containers:\n  - {name: c}\n'));
    assert.match(noImage.stderr, /The Pod "no-image" is invalid: spec\.containers\[0\]\.image: Required value/);
    const none = await t.kubectl(['create', '-f', '-'], pod('no-containers', '  restartPolicy: Sometimes\n  containers: []\n'));
    assert.match(none.stderr, /spec\.containers: Required value/);
    assert.match(none.stderr, /spec\.restartPolicy: Unsupported value: "Sometimes"/);
    const res = await t.kubectl(
      ['create', '-f', '-'],
      pod('greedy', '  containers:\n  - {name: c, image: busybox, resources: {limits: {cpu: 500m}, requests: {cpu: "1"}}}\n'),
    );
    assert.match(res.stderr, /spec\.containers\[0\]\.resources\.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m/);
    const ns = await t.kubectl(['create', 'namespace', 'Bad_Name']);
    assert.notEqual(ns.code, 0);
    assert.match(ns.stderr, /metadata\.name: Invalid value: "Bad_Name"/);
    const svc = await t.kubectl(
      ['create', '-f', '-'],
      `apiVersion: v1\nkind: Service\nmetadata: {name: 1svc, namespace: ${NS}}\nspec:\n  ports: [{port: 70000}]\n`,
    );
    assert.match(svc.stderr, /metadata\.name: Invalid value: "1svc"/);
    assert.match(svc.stderr, /spec\.ports\[0\]\.port: Invalid value: 70000/);
  });

  test('a pod update may change the image but not other spec fields; an immutable ConfigMap keeps its data', async () => {
    await t.kubectlOk(['apply', '-f', '-'], pod('steady', '  containers:\n  - {name: c, image: "busybox:1.36"}\n'));
    await t.kubectlOk(['set', 'image', 'pod/steady', '-n', NS, 'c=busybox:1.37']);
    assert.equal(await t.kubectlOk(['get', 'pod', 'steady', '-n', NS, '-o', 'jsonpath={.spec.containers[0].image}']), 'busybox:1.37');
    const r = await t.kubectl(['patch', 'pod', 'steady', '-n', NS, '-p', '{"spec":{"restartPolicy":"Never"}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec: Forbidden: pod updates may not change fields other than/);
    await t.kubectlOk(['apply', '-f', '-'], `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen, namespace: ${NS}}\nimmutable: true\ndata: {a: "1"}\n`);
    const cm = await t.kubectl(['patch', 'cm', 'frozen', '-n', NS, '-p', '{"data":{"a":"2"}}']);
    assert.match(cm.stderr, /data: Forbidden: field is immutable when `immutable` is set/);
  });

  test('/openapi/v3 lists every served group/version and /openapi/v2 answers JSON', async () => {
    const index = JSON.parse(await t.kubectlOk(['get', '--raw', '/openapi/v3'])) as { paths: Record<string, unknown> };
    for (const p of ['api/v1', 'apis/coordination.k8s.io/v1', 'apis/apiextensions.k8s.io/v1']) assert.ok(index.paths[p], p);
    const v1 = JSON.parse(await t.kubectlOk(['get', '--raw', '/openapi/v3/api/v1'])) as {
      components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[] }> };
    };
    const kinds = Object.values(v1.components.schemas)
      .flatMap((s) => (s['x-kubernetes-group-version-kind'] ?? []) as { kind: string }[])
      .map((g) => g.kind);
    for (const k of ['Pod', 'Node', 'ConfigMap', 'Secret', 'Service', 'Namespace']) assert.ok(kinds.includes(k), k);
    const v2 = JSON.parse(await t.kubectlOk(['get', '--raw', '/openapi/v2'])) as { swagger: string; definitions: Record<string, unknown> };
    assert.equal(v2.swagger, '2.0');
    assert.ok(Object.keys(v2.definitions).length > 50);
  });
});
