import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const bin = kubectlPath();
const skip = skipUnless(bin !== undefined, 'kubectl');
let s: TestServer;

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.cleanup();
});

function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin ?? 'kubectl', ['--kubeconfig', s.kubeConfigPath, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

type Managed = { manager: string; operation: string; fieldsV1: Record<string, unknown>; subresource?: string };

async function getJson(kind: string, name: string): Promise<{ metadata: { managedFields?: Managed[]; labels?: Record<string, string> }; [k: string]: any }> {
  return JSON.parse(await ok(['get', kind, name, '-o', 'json', '--show-managed-fields']));
}

test('kubectl apply --server-side twice with a field removed the second time removes it; managedFields record the Apply', { skip }, async () => {
  const v1 = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, labels: {team: a}}\ndata: {keep: "1", drop: "2"}\n';
  const v2 = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {keep: "1"}\n';
  assert.match(await ok(['apply', '--server-side', '-f', '-'], v1), /configmap\/ssa serverside-applied/);
  let cm = await getJson('cm', 'ssa');
  assert.deepEqual(cm['data'], { keep: '1', drop: '2' });
  assert.deepEqual(cm.metadata.managedFields?.[0], {
    ...cm.metadata.managedFields?.[0],
    manager: 'kubectl',
    operation: 'Apply',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': { 'f:drop': {}, 'f:keep': {} }, 'f:metadata': { 'f:labels': { 'f:team': {} } } },
  });
  await ok(['apply', '--server-side', '-f', '-'], v2);
  cm = await getJson('cm', 'ssa');
  assert.deepEqual(cm['data'], { keep: '1' });
  assert.equal(cm.metadata.labels, undefined);
  // Applying the same configuration again changes nothing, not even the resourceVersion.
  const rv = cm.metadata['resourceVersion' as 'labels'];
  await ok(['apply', '--server-side', '-f', '-'], v2);
  assert.equal((await getJson('cm', 'ssa')).metadata['resourceVersion' as 'labels'], rv);
});

test('a second manager conflicting apply gets a 409 naming field and manager; --force-conflicts takes it over', { skip }, async () => {
  await ok(
    ['apply', '--server-side', '--field-manager=alice', '-f', '-'],
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {mode: fast, owner: alice}\n',
  );
  const bob = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {mode: slow, extra: "1"}\n';
  const conflict = await kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], bob);
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "alice" using v1: \.data\.mode/);
  assert.match(conflict.stderr, /--force-conflicts/);
  assert.equal((await getJson('cm', 'shared'))['data']['mode'], 'fast');
  // Setting the same value is no conflict: the field becomes co-owned.
  await ok(['apply', '--server-side', '--field-manager=carol', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {owner: alice}\n');
  await ok(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], bob);
  const cm = await getJson('cm', 'shared');
  assert.deepEqual(cm['data'], { mode: 'slow', owner: 'alice', extra: '1' });
  const owners = Object.fromEntries((cm.metadata.managedFields ?? []).map((m) => [m.manager, Object.keys((m.fieldsV1['f:data'] ?? {}) as object)]));
  assert.deepEqual(owners, { alice: ['f:owner'], carol: ['f:owner'], bob: ['f:extra', 'f:mode'] });
  // alice drops `owner`: carol still owns it, so it stays.
  await ok(['apply', '--server-side', '--field-manager=alice', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {}\n');
  assert.equal((await getJson('cm', 'shared'))['data']['owner'], 'alice');
});

test('lists merge by their keys: service ports by port+protocol, containers by name, atomic lists are replaced', { skip }, async () => {
  const svc = (manager: string, ports: string) =>
    ok(
      ['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'],
      `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n${ports}`,
    );
  await svc('http', '  - {name: http, port: 80, targetPort: 8080}\n');
  await svc('https', '  - {name: https, port: 443, targetPort: 8443}\n');
  let ports = (await getJson('svc', 'web'))['spec']['ports'] as { port: number }[];
  assert.deepEqual(
    ports.map((p) => p.port),
    [80, 443],
  );
  await svc('http', '');
  ports = (await getJson('svc', 'web'))['spec']['ports'] as { port: number }[];
  assert.deepEqual(
    ports.map((p) => p.port),
    [443],
  );
  // externalIPs is an atomic list: a new apply replaces it whole
  const https = '  - {name: https, port: 443, targetPort: 8443}\n';
  await svc('https', `${https}  externalIPs: [192.0.2.1, 192.0.2.2]\n`);
  await svc('https', `${https}  externalIPs: [192.0.2.3]\n`);
  assert.deepEqual((await getJson('svc', 'web'))['spec']['externalIPs'], ['192.0.2.3']);
  // A pod's containers merge by name. Pod specs are immutable but for images (as on a real cluster), so a second
  // manager takes over one container's image and leaves the other container as it was.
  const pod = (image: string, sidecar: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n  - name: main\n    image: ${image}\n    args: [a, b]\n  - name: sidecar\n    image: ${sidecar}\n`;
  await ok(['apply', '--server-side', '-f', '-'], pod('busybox:1.36', 'envoy:1'));
  await ok(
    ['apply', '--server-side', '--field-manager=image-updater', '--force-conflicts', '-f', '-'],
    'apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n  - name: sidecar\n    image: envoy:2\n',
  );
  await ok(['apply', '--server-side', '-f', '-'], pod('busybox:1.37', 'envoy:2'));
  const spec = (await getJson('pod', 'app'))['spec'] as { containers: { name: string; image: string; args?: string[] }[] };
  assert.deepEqual(
    spec.containers.map((c) => [c.name, c.image, c.args]),
    [
      ['main', 'busybox:1.37', ['a', 'b']],
      ['sidecar', 'envoy:2', undefined],
    ],
  );
  const mf = (await getJson('pod', 'app')).metadata.managedFields ?? [];
  const main = mf.find((m) => m.manager === 'kubectl')?.fieldsV1 as Record<string, any>;
  assert.ok(main['f:spec']['f:containers']['k:{"name":"main"}']['.'] !== undefined);
});

test('non-apply writes record Update entries per manager; client-side kubectl apply keeps working next to them', { skip }, async () => {
  await ok(['create', 'configmap', 'upd', '--from-literal=a=1']);
  await ok(['label', 'configmap', 'upd', 'tier=x']);
  const mf = (await getJson('cm', 'upd')).metadata.managedFields ?? [];
  assert.deepEqual(
    mf.map((m) => [m.manager, m.operation]),
    [
      ['kubectl-create', 'Update'],
      ['kubectl-label', 'Update'],
    ],
  );
  assert.deepEqual(mf[1]?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
  const csa = (v: string) => ok(['apply', '-f', '-'], `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa}\ndata: {a: "${v}", b: "x"}\n`);
  assert.match(await csa('1'), /configmap\/csa created/);
  assert.match(await csa('2'), /configmap\/csa configured/);
  const cm = await getJson('cm', 'csa');
  assert.equal(cm['data']['a'], '2');
  assert.ok(cm.metadata['annotations' as 'labels']?.['kubectl.kubernetes.io/last-applied-configuration']);
  assert.deepEqual(
    (cm.metadata.managedFields ?? []).map((m) => [m.manager, m.operation]),
    [['kubectl-client-side-apply', 'Update']],
  );
});
