import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

/** The admin bearer token, generated once and kept in dataDir so existing kubeconfigs keep working. */
export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const p = join(dataDir, 'apiserver-admin.token');
  if (existsSync(p)) {
    const t = (await readFile(p, 'utf8')).trim();
    if (t !== '') return t;
  }
  const t = randomBytes(32).toString('hex');
  await writeFile(p, `${t}\n`, { mode: 0o600 });
  return t;
}

export function makeTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const want = Buffer.from(`Bearer ${token}`);
  return (authorization) => {
    if (authorization === undefined) return false;
    const got = Buffer.from(authorization.trim());
    return got.length === want.length && timingSafeEqual(got, want);
  };
}

export async function writeKubeConfig(path: string, server: string, caPem: string, token: string): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeedge', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'admin@kubeedge', context: { cluster: 'kubeedge', user: 'admin', namespace: 'default' } }],
    'current-context': 'admin@kubeedge',
    preferences: {},
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, stringify(doc), { mode: 0o600 });
}
