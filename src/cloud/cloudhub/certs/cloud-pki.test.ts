import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { certDerToPem, chainsTo, createCA, keyDerToPem, keyMatchesCert } from '../../../pki/x509.ts';
import { certFacts } from '../../../pki/cert-info.ts';
import { CloudPkiError, ensureCloudPki, type CloudPkiOptions } from './cloud-pki.ts';
import { memorySecretStore } from './secret-store.ts';

const log = pino({ level: 'silent' });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-pki-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function opts(dir: string, extra: Partial<CloudPkiOptions> = {}): CloudPkiOptions {
  return {
    caFile: join(dir, 'ca', 'rootCA.crt'),
    caKeyFile: join(dir, 'ca', 'rootCA.key'),
    certFile: join(dir, 'certs', 'server.crt'),
    keyFile: join(dir, 'certs', 'server.key'),
    advertiseAddress: ['10.1.2.3'],
    dnsNames: ['cloud.example'],
    log,
    ...extra,
  };
}

test('in-memory secret store: first start generates CA and server cert and stores them as DER in kubeedge secrets', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const { ca, server } = await ensureCloudPki(store, opts(dir));
    assert.ok(store.namespaces.has('kubeedge'));
    const caSecret = await store.get('kubeedge', 'casecret');
    assert.deepEqual(caSecret?.['cadata'], ca.certDer);
    assert.deepEqual(caSecret?.['cakeydata'], ca.keyDer);
    const srv = await store.get('kubeedge', 'cloudcoresecret');
    assert.deepEqual(srv?.['cloudcoredata'], server.certDer);
    assert.deepEqual(srv?.['cloudcorekeydata'], server.keyDer);
    assert.ok(chainsTo(server.certDer, ca.certDer));
    assert.ok(keyMatchesCert(server.keyDer, server.certDer));
    const f = certFacts(server.certDer);
    assert.equal(f?.cn, 'KubeEdge');
    assert.deepEqual(f?.o, ['KubeEdge']);
    assert.deepEqual(f?.ips, ['10.1.2.3']);
    assert.deepEqual(f?.dns, ['cloud.example']);
    assert.deepEqual(f?.eku, ['1.3.6.1.5.5.7.3.1']);
    assert.ok((f?.notAfter.getTime() ?? 0) > Date.now() + 99 * 365 * 86_400_000);
  });
});

test('in-memory secret store: a restart reuses CA and server cert from the secrets', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const first = await ensureCloudPki(store, opts(dir));
    const second = await ensureCloudPki(store, opts(dir));
    assert.deepEqual(second.ca, first.ca);
    assert.deepEqual(second.server, first.server);
  });
});

test('in-memory secret store: a new advertiseAddress reissues the server cert but keeps the CA', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const first = await ensureCloudPki(store, opts(dir));
    const moved = await ensureCloudPki(store, opts(dir, { advertiseAddress: ['10.1.2.3', '192.168.7.7'] }));
    assert.deepEqual(moved.ca, first.ca);
    assert.notDeepEqual(moved.server.certDer, first.server.certDer);
    assert.deepEqual(certFacts(moved.server.certDer)?.ips, ['10.1.2.3', '192.168.7.7']);
    assert.deepEqual((await store.get('kubeedge', 'cloudcoresecret'))?.['cloudcoredata'], moved.server.certDer);
  });
});

test('in-memory secret store: CA files win over the secret, are saved back, and a server cert from the old CA is reissued', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const first = await ensureCloudPki(store, opts(dir));
    const fileCa = await createCA();
    const o = opts(dir);
    await mkdir(join(dir, 'ca'), { recursive: true });
    await writeFile(o.caFile, certDerToPem(fileCa.certDer));
    await writeFile(o.caKeyFile, keyDerToPem(fileCa.keyDer));
    const next = await ensureCloudPki(store, o);
    assert.deepEqual(next.ca.certDer, fileCa.certDer);
    assert.deepEqual((await store.get('kubeedge', 'casecret'))?.['cadata'], fileCa.certDer);
    assert.notDeepEqual(next.server.certDer, first.server.certDer);
    assert.ok(chainsTo(next.server.certDer, fileCa.certDer));
  });
});

test('in-memory secret store: only one of the CA files present falls back to the secret', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const first = await ensureCloudPki(store, opts(dir));
    const o = opts(dir);
    await mkdir(join(dir, 'ca'), { recursive: true });
    await writeFile(o.caFile, certDerToPem((await createCA()).certDer));
    const next = await ensureCloudPki(store, o);
    assert.deepEqual(next.ca, first.ca);
  });
});

test('in-memory secret store: server cert files are used as they are', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    const first = await ensureCloudPki(store, opts(dir));
    const o = opts(dir, { advertiseAddress: ['10.9.9.9'] });
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(o.certFile, certDerToPem(first.server.certDer));
    await writeFile(o.keyFile, keyDerToPem(first.server.keyDer));
    const next = await ensureCloudPki(store, o);
    assert.deepEqual(next.server, first.server);
  });
});

test('in-memory secret store: a corrupt CA secret stops start-up instead of minting a new CA', async () => {
  await withDir(async (dir) => {
    const store = memorySecretStore();
    await store.ensureNamespace('kubeedge');
    await store.put('kubeedge', 'casecret', { cadata: Buffer.from('nope'), cakeydata: Buffer.from('nope') });
    await assert.rejects(ensureCloudPki(store, opts(dir)), CloudPkiError);
  });
});
