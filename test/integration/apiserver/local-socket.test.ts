// The embedded API server's Unix socket for the process that embeds it (cloudcore): the same API, the same
// authentication and authorization as HTTPS, a socket only its owner can open, and gone when the server stops.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startApiServer, type RunningApiServer } from '../../../src/apiserver/index.ts';
import { logger } from '../../../src/core/log.ts';
import { loadKubeConfig } from '../../../src/kube/client.ts';
import { KubeRest, paths } from '../../../src/kube/rest.ts';

const dir = mkdtempSync(join(tmpdir(), 'ke-local-sock-'));
let s: RunningApiServer;

before(async () => {
  const log = logger('apiserver-test');
  log.level = 'warn';
  s = await startApiServer({
    address: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    adminKubeConfig: join(dir, 'admin.conf'),
    log,
    localSocket: join(dir, 'data', 'api.sock'),
  });
});
after(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

function rawGet(socketPath: string, path: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    const req = request({ socketPath, path, method: 'GET', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client on the Unix socket reads and writes what HTTPS clients see, with the kubeconfig credentials', async () => {
  const sock = s.localSocketPath;
  assert.ok(sock !== undefined, 'the socket is listening');
  assert.equal(statSync(sock).mode & 0o777, 0o600, 'only the owner can connect');
  const kc = loadKubeConfig({ kubeConfig: s.cloudcoreKubeConfigPath });
  const local = new KubeRest(kc, { socketPath: sock });
  const tls = new KubeRest(kc);
  try {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-socket', namespace: 'kubeedge' }, data: { a: '1' } };
    await local.create(paths.namespaced('kubeedge', 'configmaps'), cm);
    const read = await tls.get<{ data?: Record<string, string> }>(paths.namespaced('kubeedge', 'configmaps', 'via-socket'));
    assert.deepEqual(read.data, { a: '1' });
  } finally {
    local.close();
    tls.close();
  }
  // No credentials or wrong ones, no access.
  assert.equal(await rawGet(sock, '/api/v1/namespaces'), 401);
  assert.equal(await rawGet(sock, '/api/v1/namespaces', 'not-a-token'), 401);
});

test('the socket is removed when the server stops', async () => {
  const sock = s.localSocketPath ?? '';
  await s.close();
  assert.equal(existsSync(sock), false);
});
