import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawRequest, startTestServer, type TestServer } from '../../helpers/apiserver.ts';
import { kubectlPath, skipUnless } from '../../helpers/tools.ts';

const bin = kubectlPath();
let s: TestServer;
let token: string;

before(async () => {
  s = await startTestServer();
  token = readFileSync(join(s.dataDir, 'apiserver-admin.token'), 'utf8').trim();
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

async function get(path: string): Promise<{ status: number; json: Record<string, any> }> {
  const r = await rawRequest(s, 'GET', path, { token });
  return { status: r.status, json: JSON.parse(r.body) };
}

async function createConfigMaps(ns: string, n: number): Promise<void> {
  await rawRequest(s, 'POST', '/api/v1/namespaces', { token, body: JSON.stringify({ metadata: { name: ns } }) });
  for (let i = 0; i < n; i++) {
    const r = await rawRequest(s, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
      token,
      body: JSON.stringify({ metadata: { name: `cm-${String(i).padStart(4, '0')}` }, data: { i: String(i) } }),
    });
    assert.equal(r.status, 201);
  }
}

test('kubectl get configmaps --chunk-size=2 over 7 objects lists all 7 in 4 requests with continue tokens', {
  skip: skipUnless(bin !== undefined, 'kubectl'),
}, async (t) => {
  await createConfigMaps('chunks', 7);
  const r = await kubectl(['get', 'configmaps', '-n', 'chunks', '--chunk-size=2', '-v=6']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').slice(1);
  assert.deepEqual(
    rows.map((l) => l.split(/\s+/)[0]),
    ['cm-0000', 'cm-0001', 'cm-0002', 'cm-0003', 'cm-0004', 'cm-0005', 'cm-0006'],
  );
  const requests = r.stderr.split('\n').filter((l) => /GET https:\S+\/namespaces\/chunks\/configmaps\?\S*limit=2/.test(l));
  for (const l of requests) t.diagnostic(l.replace(/^.*\] /, ''));
  assert.equal(requests.length, 4);
  assert.equal(requests.filter((l) => /continue=/.test(l)).length, 3);
});

test('limit/continue over the raw API: remainingItemCount, a consistent snapshot, resourceVersionMatch Exact and NotOlderThan', async (t) => {
  await createConfigMaps('raw', 5);
  const p1 = await get('/api/v1/namespaces/raw/configmaps?limit=2');
  assert.equal(p1.status, 200);
  assert.equal(p1.json['items'].length, 2);
  assert.equal(p1.json['metadata']['remainingItemCount'], 3);
  const snap = p1.json['metadata']['resourceVersion'];
  // A write between pages is not in later pages of the same list.
  await rawRequest(s, 'POST', '/api/v1/namespaces/raw/configmaps', { token, body: JSON.stringify({ metadata: { name: 'cm-0002a' } }) });
  const p2 = await get(`/api/v1/namespaces/raw/configmaps?limit=2&continue=${encodeURIComponent(p1.json['metadata']['continue'])}`);
  assert.deepEqual(
    p2.json['items'].map((o: { metadata: { name: string } }) => o.metadata.name),
    ['cm-0002', 'cm-0003'],
  );
  assert.equal(p2.json['metadata']['resourceVersion'], snap);
  // A Table list (what kubectl get asks for) carries the continue token too.
  const table = await rawRequest(s, 'GET', '/api/v1/namespaces/raw/configmaps?limit=1', {
    token,
    headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  });
  assert.ok(JSON.parse(table.body).metadata.continue);
  const exact = await get(`/api/v1/namespaces/raw/configmaps?resourceVersion=${snap}&resourceVersionMatch=Exact`);
  assert.equal(exact.json['items'].length, 5);
  const latest = await get(`/api/v1/namespaces/raw/configmaps?resourceVersion=${snap}&resourceVersionMatch=NotOlderThan`);
  assert.equal(latest.json['items'].length, 6);
  const future = await get(`/api/v1/namespaces/raw/configmaps?resourceVersion=${Number(snap) + 1000}`);
  assert.equal(future.status, 504);
  const noRv = await get('/api/v1/namespaces/raw/configmaps?resourceVersionMatch=NotOlderThan');
  assert.equal(noRv.status, 422);

  // Latency: 1000 objects, all at once vs pages of 100.
  await createConfigMaps('big', 1000);
  let t0 = performance.now();
  const whole = await get('/api/v1/namespaces/big/configmaps');
  const wholeMs = performance.now() - t0;
  assert.equal(whole.json['items'].length, 1000);
  t0 = performance.now();
  let pages = 0;
  let seen = 0;
  let cont = '';
  do {
    const p = await get(`/api/v1/namespaces/big/configmaps?limit=100${cont === '' ? '' : `&continue=${encodeURIComponent(cont)}`}`);
    pages++;
    seen += p.json['items'].length;
    cont = p.json['metadata']['continue'] ?? '';
  } while (cont !== '');
  const pagedMs = performance.now() - t0;
  assert.equal(seen, 1000);
  t.diagnostic(
    `list of 1000 configmaps: one request ${wholeMs.toFixed(1)} ms; ${pages} pages of 100 ${pagedMs.toFixed(1)} ms (${(pagedMs / pages).toFixed(1)} ms/page)`,
  );
});

test('watch with sendInitialEvents=true: ADDED for what exists, then a bookmark marking the end of initial events', async () => {
  await createConfigMaps('wl', 3);
  const q = 'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=';
  const r = await rawRequest(s, 'GET', `/api/v1/namespaces/wl/configmaps?${q}`, { token });
  assert.equal(r.status, 200);
  const events = r.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> } } });
  assert.deepEqual(
    events.map((e) => e.type),
    ['ADDED', 'ADDED', 'ADDED', 'BOOKMARK'],
  );
  const bm = events[3]?.object.metadata;
  assert.equal(bm?.annotations?.['k8s.io/initial-events-end'], 'true');
  assert.ok(Number(bm?.resourceVersion) >= Math.max(...events.slice(0, 3).map((e) => Number(e.object.metadata.resourceVersion))));
  // Without allowWatchBookmarks the request is refused, as kube-apiserver refuses it.
  const bad = await rawRequest(s, 'GET', '/api/v1/namespaces/wl/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan', { token });
  assert.equal(bad.status, 422);
});
