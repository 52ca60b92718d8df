// Regression tests for what `npm run fuzz -- --target apiserver` found, with the shrunk inputs: a request target
// Node's parser refuses got a bare connection reset, `GET //` a 500 (the URL resolved as scheme-relative), and a
// null in a list of objects (`ownerReferences: [null]`) a 500 from validation.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { after, before, test } from 'node:test';
import { logger } from '../core/log.ts';
import { startApiServer, type RunningApiServer } from './index.ts';

let api: RunningApiServer;
let dir: string;
let token: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ke-client-error-'));
  const log = logger('client-error-test');
  log.level = 'silent';
  api = await startApiServer({ address: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), adminKubeConfig: path.join(dir, 'admin.conf'), log });
  token = readFileSync(path.join(dir, 'data', 'apiserver-admin.token'), 'utf8').trim();
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `raw` bytes over TLS and returns everything the server wrote before closing. */
function rawExchange(raw: string): Promise<string> {
  const u = new URL(api.url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca: api.caPem, servername: 'localhost' }, () => s.write(raw));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('a request line with a control character gets 400 Bad Request, not a reset (fuzz: GET /api/v1/pods/\\x7f)', async () => {
  const reply = await rawExchange(`GET /api/v1/pods/\x7f HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(reply, /HPE_INVALID_URL/);
});

test('GET // is a 4xx Status, not a 500 (fuzz: {"method":"GET","path":"//"})', async () => {
  const reply = await rawExchange(`GET // HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(reply)?.[1]);
  assert.ok(status >= 400 && status < 500, reply.slice(0, 200));
  assert.match(reply, /"kind":"Status"/);
});

test('ownerReferences: [null] is a 422 naming the empty fields, not a 500 (fuzz: POST pods {"metadata":{"ownerReferences":[null],"generateName":""}})', async () => {
  const body = JSON.stringify({ metadata: { ownerReferences: [null], generateName: 'x' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const reply = await rawExchange(
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.match(reply, /^HTTP\/1\.1 422 /);
  assert.match(reply, /metadata\.ownerReferences\.apiVersion: Invalid value: \\"\\": version must not be empty/);
});
