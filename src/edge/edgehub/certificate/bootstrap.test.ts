import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startCertServer, type CertServer } from '../../../cloud/cloudhub/certs/cert-server.ts';
import { certFacts } from '../../../pki/cert-info.ts';
import { caCertHash, createJoinToken, splitJoinToken } from '../../../pki/token.ts';
import { chainsTo, createCA, createCsr, issueKeyPair, pemToDer, certDerToPem, keyDerToPem, type KeyPairDer } from '../../../pki/x509.ts';
import { ensureEdgeCertificates, type EdgeCertOptions } from './bootstrap.ts';
import { rotateIfDue, rotationDeadline } from './rotate.ts';
import { CLOUD_UNREACHABLE, EdgeCertError, TOKEN_CA_MISMATCH, TOKEN_MISSING, TOKEN_REFUSED } from './errors.ts';

const log = pino({ level: 'silent' });
let ca: KeyPairDer;
let srv: CertServer;
let dir: string;
let token: string;
let httpServer: string;

before(async () => {
  ca = await createCA();
  const server = await issueKeyPair(ca, { subject: 'CN=KubeEdge, O=KubeEdge', hosts: ['127.0.0.1'], usages: ['serverAuth'], days: 3650 });
  srv = await startCertServer({
    address: '127.0.0.1',
    port: 0,
    ca,
    server,
    edgeCertSigningDuration: 365,
    nodeExists: async (name) => name === 'edge1',
    log,
  });
  httpServer = `https://127.0.0.1:${srv.port}`;
  token = await createJoinToken(ca, 12);
  dir = await mkdtemp(join(tmpdir(), 'edge-cert-'));
});

after(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

function paths(name: string): Pick<EdgeCertOptions, 'caFile' | 'certFile' | 'keyFile'> {
  return { caFile: join(dir, name, 'ca', 'rootCA.crt'), certFile: join(dir, name, 'certs', 'server.crt'), keyFile: join(dir, name, 'certs', 'server.key') };
}

type Raw = { status: number; body: Buffer };

/** A plain HTTPS GET (optionally chunked, optionally with a client certificate) to the cert server. */
function rawGet(
  path: string,
  o: { headers?: Record<string, string>; body?: Buffer; chunked?: boolean; client?: { cert: string; key: string } } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) {
      // Node frames a GET body only when told how: by length, or chunked.
      if (o.chunked === true) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = String(o.body.length);
    }
    const req = request(`${httpServer}${path}`, {
      method: 'GET',
      headers,
      ca: certDerToPem(ca.certDer),
      agent: false,
      ...(o.client === undefined ? {} : { cert: o.client.cert, key: o.client.key }),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    if (o.body !== undefined && o.chunked === true) {
      // Stream in pieces without a Content-Length so only the running count can catch it.
      const piece = 64 * 1024;
      let off = 0;
      const pump = (): void => {
        while (off < (o.body?.length ?? 0)) {
          const ok = req.write(o.body?.subarray(off, off + piece));
          off += piece;
          if (!ok) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      req.on('error', () => undefined);
      pump();
    } else {
      req.end(o.body);
    }
  });
}

function jwtOf(t: string): string {
  return splitJoinToken(t).jwt;
}

test('edge enrols with the token, then a restart reuses the files without a token', async () => {
  const p = paths('enrol');
  const first = await ensureEdgeCertificates({ httpServer, token, nodeName: 'edge1', ...p, log });
  assert.equal(first.enrolled, true);
  assert.equal(await readFile(p.caFile, 'utf8'), certDerToPem(ca.certDer));
  assert.equal(await readFile(p.certFile, 'utf8'), first.certPem);
  assert.match(await readFile(p.keyFile, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
  assert.equal((await stat(p.keyFile)).mode & 0o777, 0o600);
  assert.equal((await stat(p.certFile)).mode & 0o777, 0o644);
  const certDer = pemToDer(first.certPem, 'CERTIFICATE');
  assert.ok(chainsTo(certDer, ca.certDer));
  const f = certFacts(certDer);
  assert.equal(f?.cn, 'system:node:edge1');
  assert.deepEqual(f?.o, ['system:nodes']);
  assert.deepEqual(f?.eku, ['1.3.6.1.5.5.7.3.2']);
  const days = ((f?.notAfter.getTime() ?? 0) - Date.now()) / 86_400_000;
  assert.ok(days > 364 && days <= 365, `valid for ${days} days`);

  const second = await ensureEdgeCertificates({ httpServer: 'https://127.0.0.1:1', token: '', nodeName: 'edge1', ...p, log });
  assert.deepEqual(second, { ...first, enrolled: false });
});

test('a token made for another CA is refused before anything is sent or written', async () => {
  const other = await createCA();
  const p = paths('wrong-ca');
  const badToken = `${caCertHash(other.certDer)}.${jwtOf(token)}`;
  await assert.rejects(
    ensureEdgeCertificates({ httpServer, token: badToken, nodeName: 'edge2', ...p, log }),
    (err: unknown) =>
      err instanceof EdgeCertError && err.code === TOKEN_CA_MISMATCH && /join token refused: it does not match the cloud's CA/.test(err.message),
  );
  await assert.rejects(stat(p.caFile), { code: 'ENOENT' });
});

test('no files and no token: the error names modules.edgeHub.token', async () => {
  await assert.rejects(
    ensureEdgeCertificates({ httpServer, token: '', nodeName: 'edge3', ...paths('no-token'), log }),
    (err: unknown) => err instanceof EdgeCertError && err.code === TOKEN_MISSING && err.message.includes('modules.edgeHub.token'),
  );
});

test('an expired JWT gets 401 and is not retried', async () => {
  const expired = await createJoinToken(ca, 12, new Date(Date.now() - 48 * 3600_000));
  const before401 = srv.counts.get('/edge.crt 401') ?? 0;
  await assert.rejects(
    ensureEdgeCertificates({ httpServer, token: expired, nodeName: 'edge4', ...paths('expired'), log, retry: { attempts: 5, baseDelayMs: 10 } }),
    (err: unknown) =>
      err instanceof EdgeCertError &&
      err.code === TOKEN_REFUSED &&
      err.context['status'] === 401 &&
      /join token refused by the cloud.*expired/.test(err.message),
  );
  assert.equal((srv.counts.get('/edge.crt 401') ?? 0) - before401, 1);
});

test('garbage CSR gets 400, unknown ExtKeyUsages gets 400', async () => {
  const auth = { NodeName: 'edge5', Authorization: `Bearer ${jwtOf(token)}` };
  const r = await rawGet('/edge.crt', { headers: auth, body: Buffer.from('this is not a CSR') });
  assert.equal(r.status, 400);
  assert.match(r.body.toString(), /invalid certificate request/);
  const { csrDer } = await createCsr('CN=system:node:edge5, O=system:nodes');
  const u = await rawGet('/edge.crt', { headers: { ...auth, ExtKeyUsages: '[7]' }, body: csrDer });
  assert.equal(u.status, 400);
  const both = await rawGet('/edge.crt', { headers: { ...auth, ExtKeyUsages: '[1,2]' }, body: csrDer });
  assert.equal(both.status, 200);
  assert.deepEqual(certFacts(both.body)?.eku.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
});

test('a body over 1 MiB gets 413, declared or streamed', async () => {
  const auth = { NodeName: 'edge6', Authorization: `Bearer ${jwtOf(token)}` };
  const big = Buffer.alloc((1 << 20) + 1, 0x30);
  const declared = await rawGet('/edge.crt', { headers: auth, body: big });
  assert.equal(declared.status, 413);
  const streamed = await rawGet('/edge.crt', { headers: auth, body: big, chunked: true });
  assert.equal(streamed.status, 413);
  // The server is still fine afterwards.
  assert.equal((await rawGet('/ca.crt')).status, 200);
});

test('missing or non-bearer Authorization gets 401', async () => {
  const { csrDer } = await createCsr('CN=system:node:edge7, O=system:nodes');
  assert.equal((await rawGet('/edge.crt', { headers: { NodeName: 'edge7' }, body: csrDer })).status, 401);
  assert.equal((await rawGet('/edge.crt', { headers: { NodeName: 'edge7', Authorization: jwtOf(token) }, body: csrDer })).status, 401);
});

test('a node can renew with its client certificate and no token, but not for another node', async () => {
  const p = paths('rotate');
  const certs = await ensureEdgeCertificates({ httpServer, token, nodeName: 'edge8', ...p, log });
  const client = { cert: certs.certPem, key: certs.keyPem };
  const { csrDer } = await createCsr('C=CN, ST=Zhejiang, L=Hangzhou, O=system:nodes, CN=system:node:edge8');
  const ok = await rawGet('/edge.crt', { headers: { NodeName: 'edge8' }, body: csrDer, client });
  assert.equal(ok.status, 200);
  assert.equal(certFacts(ok.body)?.cn, 'system:node:edge8');
  const other = await createCsr('O=system:nodes, CN=system:node:edge9');
  assert.equal((await rawGet('/edge.crt', { headers: { NodeName: 'edge9' }, body: other.csrDer, client })).status, 401);
  assert.equal((await rawGet('/edge.crt', { headers: { NodeName: 'edge8' }, body: other.csrDer, client })).status, 401);
});

test('a legacy KubeEdge 1.15 client certificate (O=kubeEdge, CN=kubeedge.io) may renew', async () => {
  const legacy = await issueKeyPair(ca, { subject: 'O=kubeEdge, CN=kubeedge.io', usages: ['clientAuth'], days: 365 });
  const client = { cert: certDerToPem(legacy.certDer), key: keyDerToPem(legacy.keyDer) };
  const { csrDer } = await createCsr('O=system:nodes, CN=system:node:edge10');
  const r = await rawGet('/edge.crt', { headers: { NodeName: 'edge10' }, body: csrDer, client });
  assert.equal(r.status, 200);
});

test('a client certificate from another CA does not authorise', async () => {
  const foreign = await createCA();
  const pair = await issueKeyPair(foreign, { subject: 'O=system:nodes, CN=system:node:edge11', usages: ['clientAuth'], days: 365 });
  const { csrDer } = await createCsr('O=system:nodes, CN=system:node:edge11');
  const r = await rawGet('/edge.crt', {
    headers: { NodeName: 'edge11' },
    body: csrDer,
    client: { cert: certDerToPem(pair.certDer), key: keyDerToPem(pair.keyDer) },
  });
  assert.equal(r.status, 401);
});

test('/ca.crt serves the CA as DER and /node/{name} reports existence', async () => {
  const r = await rawGet('/ca.crt');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, ca.certDer);
  const found = await rawGet('/node/edge1');
  assert.equal(found.status, 200);
  assert.equal(found.body.toString(), 'Node found');
  assert.equal((await rawGet('/node/nope')).status, 404);
  assert.equal((await rawGet('/nothing')).status, 404);
});

test('an unreachable cloud is retried a bounded number of times, and abort stops it', async () => {
  const p = paths('unreachable');
  await assert.rejects(
    ensureEdgeCertificates({ httpServer: 'https://127.0.0.1:1', token, nodeName: 'edge12', ...p, log, retry: { attempts: 3, baseDelayMs: 5 } }),
    (err: unknown) => err instanceof EdgeCertError && err.code === CLOUD_UNREACHABLE,
  );
  const ac = new AbortController();
  const pending = ensureEdgeCertificates({
    httpServer: 'https://127.0.0.1:1',
    token,
    nodeName: 'edge12',
    ...p,
    log,
    signal: ac.signal,
    retry: { attempts: 100, baseDelayMs: 60_000 },
  });
  setTimeout(() => ac.abort(new Error('shutting down')), 50);
  await assert.rejects(pending, /shutting down/);
});

test('rotation: not before 70 % of the lifetime; when due, renews with the client certificate and no token', async () => {
  const p = paths('rotation');
  const certs = await ensureEdgeCertificates({ httpServer, token, nodeName: 'edge13', ...p, log });
  const early = await rotateIfDue({ httpServer, nodeName: 'edge13', ...p, log, jitter: 0 });
  assert.equal(early.rotated, false);
  const f = certFacts(pemToDer(certs.certPem, 'CERTIFICATE'));
  const life = (f?.notAfter.getTime() ?? 0) - (f?.notBefore.getTime() ?? 0);
  assert.equal(early.dueAt.getTime(), (f?.notBefore.getTime() ?? 0) + life * 0.7);
  assert.equal(rotationDeadline(certs.certPem, 1).getTime(), (f?.notBefore.getTime() ?? 0) + life * 0.9);
  const due = new Date(early.dueAt.getTime() + 1000);
  const r = await rotateIfDue({ httpServer, nodeName: 'edge13', ...p, log, jitter: 0, now: due });
  assert.equal(r.rotated, true);
  assert.notEqual(await readFile(p.certFile, 'utf8'), certs.certPem);
  assert.notEqual(await readFile(p.keyFile, 'utf8'), certs.keyPem);
  // The rotated pair is reusable on the next start without a token.
  const again = await ensureEdgeCertificates({ httpServer, token: '', nodeName: 'edge13', ...p, log });
  assert.equal(again.enrolled, false);
  assert.equal(again.certPem, r.certs?.certPem);
});
