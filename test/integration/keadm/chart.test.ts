// Issue 16: the cloudcore Helm chart. The real helm lints and renders it; the rendered manifests are accepted
// by an API server (server-side dry run through the real kubectl); `keadm init --in-cluster --dry-run` prints
// the same objects helm renders.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlOk, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { runBin } from '../../helpers/daemon.ts';
import { helmPath } from '../../helpers/helm.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const run = promisify(execFile);
const helm = helmPath();
const skip = skipUnless(helm !== undefined, 'helm') || skipUnless(kubectlPath() !== undefined, 'kubectl');
const chart = path.join(import.meta.dirname, '../../../manifests/charts/cloudcore');
let server: TestServer | undefined;

after(async () => {
  await server?.cleanup();
});

type Obj = { kind?: string; metadata?: { name?: string; namespace?: string }; data?: Record<string, string> };

/** Parsed documents keyed by kind/namespace/name, the ConfigMap's cloudcore.yaml parsed too (text layout aside). */
function objects(text: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const d of parseAllDocuments(text)) {
    const o = d.toJS() as Obj | null;
    if (o === null) continue;
    const inner = o.data?.['cloudcore.yaml'];
    const norm = inner !== undefined ? { ...o, data: { ...o.data, 'cloudcore.yaml': parseAllDocuments(inner)[0]?.toJS() } } : o;
    out.set(`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, norm);
  }
  return out;
}

async function helmTemplate(args: string[] = []): Promise<string> {
  return (await run(helm ?? 'helm', ['template', 'cloudcore', chart, ...args], { maxBuffer: 16 << 20 })).stdout;
}

test('helm lint accepts the cloudcore chart', { skip, timeout: 60_000 }, async () => {
  const r = await run(helm ?? 'helm', ['lint', chart]);
  assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('helm template manifests/charts/cloudcore | kubectl apply --dry-run=server -f - is accepted by the API server', { skip, timeout: 120_000 }, async (t) => {
  server = await startTestServer();
  // As `helm install -n kubeedge --create-namespace` does before it applies the templates (this API server has it).
  await kubectlOk(server, ['get', 'namespace', 'kubeedge']);
  const rendered = await helmTemplate();
  const r = await kubectl(server, ['apply', '--dry-run=server', '-f', '-'], rendered);
  assert.equal(r.code, 0, r.stderr);
  for (const kind of ['serviceaccount', 'configmap', 'clusterrole.rbac.authorization.k8s.io', 'service', 'deployment.apps'])
    assert.match(r.stdout, new RegExp(`^${kind.replace('.', '\\.')}/cloudcore (created|configured|unchanged) \\(server dry run\\)$`, 'm'));
  t.diagnostic(r.stdout.trim().replace(/\n/g, '; '));
  // A dry run stores nothing.
  const after = await kubectl(server, ['get', 'deployment', '-n', 'kubeedge', 'cloudcore']);
  assert.notEqual(after.code, 0);
  // The chart's CRDs (crds/, which helm installs first) are KubeEdge's.
  const crds = await helmTemplate(['--include-crds']);
  assert.match(crds, /name: objectsyncs\.reliablesyncs\.kubeedge\.io/);
});

test('keadm init --in-cluster --dry-run prints the objects helm template renders (defaults, and with an advertise address)', {
  skip,
  timeout: 60_000,
}, async () => {
  const plain = await runBin('keadm', ['init', '--in-cluster', '--dry-run']);
  assert.equal(plain.code, 0, plain.stderr);
  const fromHelm = objects(await helmTemplate());
  assert.equal(fromHelm.size, 8);
  assert.deepEqual(objects(plain.stdout), fromHelm);
  const withAddr = await runBin('keadm', ['init', '--in-cluster', '--dry-run', '--advertise-address', '192.0.2.10']);
  assert.equal(withAddr.code, 0, withAddr.stderr);
  const helmAddr = objects(await helmTemplate(['--set', 'cloudCore.modules.cloudHub.advertiseAddress[0]=192.0.2.10']));
  assert.deepEqual(objects(withAddr.stdout), helmAddr);
  assert.notDeepEqual(helmAddr, fromHelm, 'the address reaches the config');
});

test('keadm init --in-cluster without helm applies the rendered chart: a cloudcore Deployment and Service in kubeedge', {
  skip,
  timeout: 120_000,
}, async () => {
  server ??= await startTestServer();
  // No helm on PATH here (the tests' helm lives in a cache directory): keadm renders the chart itself.
  const r = await runBin('keadm', ['init', '--in-cluster', '--kube-config', server.kubeConfigPath, '--advertise-address', '192.0.2.10'], {
    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /KubeEdge's CustomResourceDefinitions \(Established\): created /);
  assert.match(r.stdout, /cloudcore \(rendered chart, no helm on PATH\): created .*Deployment\/kubeedge\/cloudcore/);
  const dep = JSON.parse(await kubectlOk(server, ['get', 'deployment', 'cloudcore', '-n', 'kubeedge', '-o', 'json'])) as {
    spec: { template: { spec: { hostNetwork: boolean; serviceAccountName: string } } };
  };
  assert.equal(dep.spec.template.spec.hostNetwork, true);
  assert.equal(dep.spec.template.spec.serviceAccountName, 'cloudcore');
  assert.match(await kubectlOk(server, ['get', 'service', 'cloudcore', '-n', 'kubeedge', '-o', 'jsonpath={.spec.ports[*].port}']), /^10000 10002$/);
  assert.match(await kubectlOk(server, ['get', 'configmap', 'cloudcore', '-n', 'kubeedge', '-o', 'jsonpath={.data.cloudcore\\.yaml}']), /192\.0\.2\.10/);
});
