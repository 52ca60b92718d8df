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

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin ?? 'kubectl', ['--kubeconfig', s.kubeConfigPath, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

test('kubectl create service clusterip (a protobuf body) stores ports with targetPort and the selector', { skip }, async () => {
  const r = await kubectl(['create', 'service', 'clusterip', 'x', '--tcp=80:8080', '-v=8']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
  assert.match(r.stdout, /service\/x created/);
  const svc = JSON.parse((await kubectl(['get', 'svc', 'x', '-o', 'json'])).stdout) as {
    metadata: Record<string, unknown>;
    spec: { type: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: number; protocol: string }[] };
  };
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.deepEqual(svc.spec.selector, { app: 'x' });
  assert.deepEqual(
    svc.spec.ports.map((p) => [p.name, p.port, p.targetPort, p.protocol]),
    [['80-8080', 80, 8080, 'TCP']],
  );
  // No empty strings from the protobuf zero values.
  assert.equal(svc.metadata['generateName'], undefined);
  const np = await kubectl(['create', 'service', 'nodeport', 'np', '--tcp=5678:http']);
  assert.equal(np.code, 0, np.stderr);
  const port = JSON.parse((await kubectl(['get', 'svc', 'np', '-o', 'json'])).stdout).spec.ports[0];
  assert.equal(port.targetPort, 'http');
});

test('kubectl expose pod creates a service selecting the pod', { skip }, async () => {
  assert.equal((await kubectl(['run', 'web', '--image=nginx:1.25', '--port=80'])).code, 0);
  const r = await kubectl(['expose', 'pod', 'web', '--port=8080', '--target-port=80']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /service\/web exposed/);
  const svc = JSON.parse((await kubectl(['get', 'svc', 'web', '-o', 'json'])).stdout);
  assert.deepEqual(svc.spec.selector, { run: 'web' });
  assert.equal(svc.spec.ports[0].port, 8080);
  assert.equal(svc.spec.ports[0].targetPort, 80);
});
