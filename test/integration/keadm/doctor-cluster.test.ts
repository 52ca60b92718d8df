// Issue 16: `keadm doctor --cloud --kube-config FILE` checks a real cluster as cloudcore will use it: the API
// server answers, the credentials may do what cloudcore does (SelfSubjectAccessReview per verb), KubeEdge's
// CRDs are there. The cluster is an API server of ours on loopback; the weak identity a ServiceAccount token.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { kubectlOk, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { runBin } from '../../helpers/daemon.ts';
import { bindablePort, kubectlPath, skipUnless } from '../../helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
let server: TestServer | undefined;
after(async () => {
  await server?.cleanup();
});

type KubeConfigDoc = {
  clusters: Array<{ cluster: { server: string } }>;
  users: Array<{ name: string; user: Record<string, string> }>;
};

/** A cloudcore.yaml with ports free now, so only the cluster checks can fail. */
async function cloudConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'cloudcore.yaml');
  writeFileSync(
    file,
    `modules:\n  cloudHub:\n    websocket: {port: ${await bindablePort(0)}}\n    https: {port: ${await bindablePort(0)}}\n  apiServer: {enable: false}\n`,
  );
  return file;
}

const line = (out: string, name: string) => out.split('\n').find((l) => l.slice(5).startsWith(`${name}:`)) ?? '';

test('keadm doctor --cloud --kube-config: reachable, permissions per verb, CRDs missing then present', { skip, timeout: 120_000 }, async () => {
  server = await startTestServer();
  const cfg = await cloudConfig(server.dir);
  const admin = server.kubeConfigPath;
  const before = await runBin('keadm', ['doctor', '--cloud', '--config', cfg, '--kube-config', admin]);
  assert.match(
    line(before.stdout, 'API server'),
    /^ok {3}API server: https:\/\/127\.0\.0\.1:\d+ answers from this host \(loopback: keadm init runs cloudcore on the host network/,
  );
  assert.match(line(before.stdout, 'permissions'), /^ok {3}permissions: the credentials may do all \d+ things cloudcore does/);
  assert.match(line(before.stdout, 'CRDs'), /^FAIL CRDs: missing .*objectsyncs\.reliablesyncs\.kubeedge\.io.*\(fix: keadm init --kube-config installs them/);
  assert.equal(before.code, 1);

  await kubectlOk(server, ['apply', '--server-side', '-f', path.join(import.meta.dirname, '../../../manifests/crds')]);
  const afterCrds = await runBin('keadm', ['doctor', '--cloud', '--config', cfg, '--kube-config', admin]);
  assert.match(line(afterCrds.stdout, 'CRDs'), /^ok {3}CRDs: KubeEdge's 11 CustomResourceDefinitions are present/);

  // An identity with no rights: every verb is denied, and doctor names some.
  await kubectlOk(server, ['create', 'serviceaccount', 'weak', '-n', 'default']);
  const token = (await kubectlOk(server, ['create', 'token', 'weak', '-n', 'default'])).trim();
  const weak = parse(readFileSync(admin, 'utf8')) as KubeConfigDoc;
  for (const u of weak.users) u.user = { token };
  const weakFile = path.join(server.dir, 'weak.kubeconfig');
  writeFileSync(weakFile, stringify(weak));
  const denied = await runBin('keadm', ['doctor', '--cloud', '--config', cfg, '--kube-config', weakFile]);
  assert.equal(denied.code, 1, denied.stdout);
  assert.match(
    line(denied.stdout, 'permissions'),
    /^FAIL permissions: the credentials may not get nodes, .* and \d+ more \(fix: .*manifests\/rbac\/cloudcore-cluster\.yaml/,
  );

  // Nobody listening: one FAIL line naming the server.
  const dead = parse(readFileSync(admin, 'utf8')) as KubeConfigDoc;
  const port = await bindablePort(0);
  for (const c of dead.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  const deadFile = path.join(server.dir, 'dead.kubeconfig');
  writeFileSync(deadFile, stringify(dead));
  const unreachable = await runBin('keadm', ['doctor', '--cloud', '--config', cfg, '--kube-config', deadFile]);
  assert.equal(unreachable.code, 1);
  assert.match(
    line(unreachable.stdout, 'API server'),
    new RegExp(`^FAIL API server: the API server https://127\\.0\\.0\\.1:${port} .*does not answer from this host: connect ECONNREFUSED`),
  );
});
