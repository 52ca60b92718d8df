/**
 * keadm and a real cluster: where its API server is (loopback or not), whether it answers, and installing
 * objects there by server-side apply so a second run changes nothing and says so.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { k8s } from '../kube/client.ts';
import { type KubeObject, KubeApiError, type KubeRest, isNotFound } from '../kube/rest.ts';
import { EXIT, KeadmError } from './common.ts';

export const FIELD_MANAGER = 'keadm';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

export type ClusterServer = { url: string; host: string; port: number; loopback: boolean };

export function clusterServer(kc: k8s.KubeConfig): ClusterServer {
  const server = kc.getCurrentCluster()?.server ?? '';
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    throw new KeadmError(`the kubeconfig's server ${JSON.stringify(server)} is not a URL (fix: set clusters[].cluster.server)`, EXIT.usage);
  }
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
  return { url: server, host: u.hostname, port, loopback: isLoopbackHost(u.hostname) };
}

/** Why a request did not get an answer: the socket's own words (connect ECONNREFUSED ..., a TLS failure...). */
function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.message === 'string' && e.message !== '') return e.message;
  return typeof e.code === 'string' ? e.code : String(err);
}

/**
 * GET /version within `timeoutMs`: any HTTP answer (even 401/403) means the server is there; no answer is a
 * KeadmError whose one line names the server and the fix.
 */
export async function probeApiServer(kube: KubeRest, server: ClusterServer, file: string, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
  });
  try {
    await Promise.race([kube.get('/version'), timeout]);
  } catch (err) {
    if (err instanceof KubeApiError) return;
    throw new KeadmError(
      `the API server ${server.url} (--kube-config ${file}) does not answer from this host: ${reason(err)} (fix: start the cluster, or pass the kubeconfig of a cluster this host reaches)`,
      EXIT.failed,
      { server: server.url, kubeConfig: file },
      err,
    );
  } finally {
    clearTimeout(timer);
  }
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  Service: 'services',
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
};

/** The REST path of one object (kinds keadm installs). */
export function objectPath(o: KubeObject): string {
  const plural = PLURALS[o.kind ?? ''];
  if (plural === undefined) throw new KeadmError(`keadm cannot install kind ${o.kind}`);
  const av = o.apiVersion ?? 'v1';
  const root = av.includes('/') ? `/apis/${av}` : `/api/${av}`;
  const ns = o.metadata?.namespace;
  return `${root}${ns !== undefined ? `/namespaces/${encodeURIComponent(ns)}` : ''}/${plural}/${encodeURIComponent(o.metadata?.name ?? '')}`;
}

export const objectRef = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace !== undefined ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`;

export type Applied = { ref: string; path: string; result: 'created' | 'configured' | 'unchanged' };

function established(o: KubeObject): boolean {
  const conds = (o as { status?: { conditions?: { type?: string; status?: string }[] } }).status?.conditions ?? [];
  return conds.some((c) => c.type === 'Established' && c.status === 'True');
}

/**
 * An object's content without what bookkeeping alone changes: another writer (cloudcore brings the CRDs up to
 * date at start) taking over field ownership is no change to the object.
 */
function content(o: KubeObject): string {
  const { managedFields: _m, resourceVersion: _r, ...metadata } = o.metadata ?? {};
  const { status: _s, ...rest } = o as KubeObject & { status?: unknown };
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sorted({ ...rest, metadata }));
}

/**
 * Server-side apply of each object with keadm as field manager (force: keadm owns these fields). The
 * object before and after tells created, configured and unchanged apart. CRDs are waited for
 * until Established, so their kinds work right after.
 */
export async function applyObjects(kube: KubeRest, objects: KubeObject[], timeoutMs = 30_000): Promise<Applied[]> {
  const out: Applied[] = [];
  for (const obj of objects) {
    const path = objectPath(obj);
    let before: KubeObject | undefined;
    try {
      before = await kube.get(path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const after = await kube.request<KubeObject>(
      'PATCH',
      `${path}?fieldManager=${FIELD_MANAGER}&force=true`,
      JSON.stringify(obj),
      'application/apply-patch+yaml',
    );
    const result = before === undefined ? 'created' : content(before) === content(after) ? 'unchanged' : 'configured';
    out.push({ ref: objectRef(obj), path, result });
    if (obj.kind === 'CustomResourceDefinition') {
      const deadline = Date.now() + timeoutMs;
      while (!established(await kube.get(path))) {
        if (Date.now() > deadline) throw new KeadmError(`${objectRef(obj)} is not Established after ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  return out;
}

/** "created 3, unchanged 8" style summary, with the names of what changed. */
export function describeApplied(what: string, applied: Applied[]): string {
  const by = (r: Applied['result']) => applied.filter((a) => a.result === r);
  const parts = (['created', 'configured', 'unchanged'] as const)
    .map((r) => [r, by(r)] as const)
    .filter(([, l]) => l.length > 0)
    .map(([r, l]) => (r === 'unchanged' ? `${l.length} unchanged` : `${r} ${l.map((a) => a.ref).join(', ')}`));
  return `${what}: ${parts.join('; ')}`;
}

type KubeConfigDoc = {
  clusters?: Array<{ cluster?: Record<string, unknown> }>;
  users?: Array<{ user?: Record<string, unknown> }>;
};

/**
 * The kubeconfig with the files it names (CA, client certificate and key, token file: minikube's and kubeadm's
 * point at files under the user's home) read into it, so it works where only this one file is mounted.
 * Relative paths are relative to the kubeconfig's directory, as kubectl reads them.
 */
export function flattenKubeConfig(text: string, dir: string, read: (file: string) => Buffer): string {
  const doc = parse(text) as KubeConfigDoc;
  const inline = (o: Record<string, unknown> | undefined, fileKey: string, dataKey: string, asText = false) => {
    const f = o?.[fileKey];
    if (o === undefined || typeof f !== 'string' || f === '') return;
    const data = read(path.resolve(dir, f));
    o[dataKey] = asText ? data.toString('utf8').trim() : data.toString('base64');
    delete o[fileKey];
  };
  for (const c of doc.clusters ?? []) inline(c.cluster, 'certificate-authority', 'certificate-authority-data');
  for (const u of doc.users ?? []) {
    inline(u.user, 'client-certificate', 'client-certificate-data');
    inline(u.user, 'client-key', 'client-key-data');
    inline(u.user, 'tokenFile', 'token', true);
  }
  return stringify(doc);
}
