import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { certDerToPem, createCA, issueKeyPair, keyDerToPem, keyPemToDer, pemToDer, type KeyPairDer } from '../pki/x509.ts';

export type ServingTls = { caPem: string; certPem: string; keyPem: string };

/** Loads the API server's CA from dataDir, creating it on first start so kubeconfigs stay valid across restarts. */
async function loadOrCreateCA(dataDir: string): Promise<KeyPairDer> {
  const crt = join(dataDir, 'apiserver-ca.crt');
  const key = join(dataDir, 'apiserver-ca.key');
  if (existsSync(crt) && existsSync(key)) {
    return { certDer: pemToDer(await readFile(crt, 'utf8'), 'CERTIFICATE'), keyDer: keyPemToDer(await readFile(key, 'utf8')) };
  }
  const ca = await createCA('kubeedge-ts-apiserver-ca');
  await writeFile(key, keyDerToPem(ca.keyDer), { mode: 0o600 });
  await writeFile(crt, certDerToPem(ca.certDer));
  return ca;
}

/** The serving certificate is cheap to make, so it is issued fresh at each start for the current address. */
export async function servingTls(dataDir: string, address: string): Promise<ServingTls> {
  const ca = await loadOrCreateCA(dataDir);
  const hosts = [...new Set(['127.0.0.1', 'localhost', '::1', hostname(), address].filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::'))];
  const pair = await issueKeyPair(ca, { subject: 'CN=kube-apiserver', hosts, usages: ['serverAuth'], days: 365 });
  return { caPem: certDerToPem(ca.certDer), certPem: certDerToPem(pair.certDer), keyPem: keyDerToPem(pair.keyDer) };
}
