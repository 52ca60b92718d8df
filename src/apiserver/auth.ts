import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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

/** Who a kubeconfig authenticates as: the admin by default, or e.g. cloudcore's ServiceAccount. */
export type KubeConfigUser = { name: string; context: string; namespace: string };

const ADMIN_USER: KubeConfigUser = { name: 'admin', context: 'admin@kubeedge', namespace: 'default' };

export async function writeKubeConfig(path: string, server: string, caPem: string, token: string, user: KubeConfigUser = ADMIN_USER): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeedge', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user.name, user: { token } }],
    contexts: [{ name: user.context, context: { cluster: 'kubeedge', user: user.name, namespace: user.namespace } }],
    'current-context': user.context,
    preferences: {},
  };
  await mkdir(dirname(path), { recursive: true });
  // Written beside and renamed over: a client (cloudcore) reading it while the server restarts sees the old file
  // or the new one, never an empty one (the chaos suite saw cloudcore exit on "the input is empty").
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stringify(doc), { mode: 0o600 });
  await rename(tmp, path);
}
