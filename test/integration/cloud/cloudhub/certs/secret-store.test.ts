import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { kubectlOk, startTestServer, type TestServer } from '../../../../helpers/apiserver.ts';
import { ensureCloudPki } from '../../../../../src/cloud/cloudhub/certs/cloud-pki.ts';
import { kubeSecretStore } from '../../../../../src/cloud/cloudhub/certs/secret-store.ts';

let s: TestServer;
let kc: KubeConfig;

before(async () => {
  s = await startTestServer();
  kc = new KubeConfig();
  kc.loadFromFile(s.kubeConfigPath);
});
after(async () => {
  await s.cleanup();
});

test('kube secret store against the embedded API server: create, read back, replace, missing = undefined', async () => {
  const store = kubeSecretStore(kc);
  await store.ensureNamespace('kubeedge');
  await store.ensureNamespace('kubeedge'); // idempotent
  assert.equal(await store.get('kubeedge', 'nothing'), undefined);
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  await store.put('kubeedge', 'casecret', { cadata: bytes, cakeydata: Buffer.from('k') });
  assert.deepEqual(await store.get('kubeedge', 'casecret'), { cadata: bytes, cakeydata: Buffer.from('k') });
  await store.put('kubeedge', 'casecret', { cadata: Buffer.from('second') });
  assert.deepEqual(await store.get('kubeedge', 'casecret'), { cadata: Buffer.from('second') });
  const json = JSON.parse(await kubectlOk(s, ['-n', 'kubeedge', 'get', 'secret', 'casecret', '-o', 'json']));
  assert.equal(json.type, 'Opaque');
  assert.equal(json.data.cadata, Buffer.from('second').toString('base64'));
});

test('cloud PKI over the embedded API server survives a restart of cloudcore with the same CA', async () => {
  const o = { caFile: '', caKeyFile: '', certFile: '', keyFile: '', advertiseAddress: ['127.0.0.1'], dnsNames: [], log: pino({ level: 'silent' }) };
  const first = await ensureCloudPki(kubeSecretStore(kc), o);
  const second = await ensureCloudPki(kubeSecretStore(kc), o);
  assert.deepEqual(second.ca, first.ca);
  assert.deepEqual(second.server, first.server);
  const names = await kubectlOk(s, ['-n', 'kubeedge', 'get', 'secrets', '-o', 'name']);
  assert.match(names, /secret\/casecret/);
  assert.match(names, /secret\/cloudcoresecret/);
});
