import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type Payload, safePath, writeAtomic } from './atomic-writer.ts';
import { parseQuantity } from './container-spec.ts';
import { configData } from './env.ts';
import { PodSetupError } from './errors.ts';
import type { ConfigObject, DownwardAPIFile, KeyToPath, Pod, Volume } from './types.ts';

/** What the edge asks the cloud for, in KubeEdge's TokenRequest shape (`serviceaccounttoken` query). */
export type TokenRequestSpec = {
  audiences: string[] | null;
  expirationSeconds: number;
  boundObjectRef: { kind: 'Pod'; apiVersion: 'v1'; name: string; uid: string };
};
export type IssuedToken = { token: string; expirationTimestamp: string };

export type ProjectedSources = {
  getConfigMap(namespace: string, name: string): Promise<ConfigObject | undefined>;
  getSecret(namespace: string, name: string): Promise<ConfigObject | undefined>;
  getServiceAccountToken?(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken | undefined>;
  nodeName: string;
};

type CachedToken = IssuedToken & { fetchedAt: number; expiresAt: number };
/** Tokens of one pod's projected volumes, by volume and path; kept across syncs for refreshing. */
export type TokenCache = Map<string, CachedToken>;

/** kubelet's rule: a token is renewed once 80 % of its lifetime has passed, or after 24 h at the latest. */
export function tokenNeedsRefresh(t: { fetchedAt: number; expiresAt: number }, now: number): boolean {
  const ttl = t.expiresAt - t.fetchedAt;
  return now >= t.fetchedAt + ttl * 0.8 || now >= t.fetchedAt + 24 * 3600_000;
}

/** When the soonest token of `cache` must be renewed (ms epoch), or undefined without tokens. */
export function nextTokenRefresh(cache: TokenCache): number | undefined {
  let at: number | undefined;
  for (const t of cache.values()) {
    const due = Math.min(t.fetchedAt + (t.expiresAt - t.fetchedAt) * 0.8, t.fetchedAt + 24 * 3600_000);
    at = at === undefined ? due : Math.min(at, due);
  }
  return at;
}

export function isProjectedVolume(v: Volume): boolean {
  return v.projected !== undefined || v.downwardAPI !== undefined;
}

export function projectedVolumeDir(rootDirectory: string, uid: string, v: Volume): string {
  const plugin = v.projected !== undefined ? 'kubernetes.io~projected' : 'kubernetes.io~downward-api';
  return join(rootDirectory, 'pods', uid, 'volumes', plugin, v.name);
}

/** Context a downward API value may need beyond the pod object. */
type DownwardContext = { pod: Pod; nodeName: string; podIP: string };

function quoteMap(m: Record<string, string> = {}): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join('\n');
}

function fieldValue(path: string, c: DownwardContext): string {
  const md = c.pod.metadata;
  const one = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (one) return (one[1] === 'labels' ? md.labels : md.annotations)?.[one[2] as string] ?? '';
  switch (path) {
    case 'metadata.name':
      return md.name;
    case 'metadata.namespace':
      return md.namespace ?? 'default';
    case 'metadata.uid':
      return md.uid;
    case 'metadata.labels':
      return quoteMap(md.labels);
    case 'metadata.annotations':
      return quoteMap(md.annotations);
    case 'spec.nodeName':
      return c.pod.spec.nodeName ?? c.nodeName;
    case 'spec.serviceAccountName':
      return c.pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
      return c.podIP;
    default:
      throw new PodSetupError('FailedMount', `unsupported fieldRef ${path} in a downwardAPI volume`, { pod: md.name });
  }
}

/** A container's limit or request in units of `divisor`, rounded up; an unset limit is the node's capacity. */
function resourceValue(ref: NonNullable<DownwardAPIFile['resourceFieldRef']>, pod: Pod): string {
  const c = pod.spec.containers.find((x) => x.name === ref.containerName) ?? (ref.containerName === undefined ? pod.spec.containers[0] : undefined);
  if (c === undefined) throw new PodSetupError('FailedMount', `resourceFieldRef names no container ${JSON.stringify(ref.containerName)}`);
  const [kind, resource] = ref.resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || resource === undefined) throw new PodSetupError('FailedMount', `unsupported resource ${ref.resource}`);
  const limit = c.resources?.limits?.[resource];
  const request = c.resources?.requests?.[resource];
  const nodeCapacity = resource === 'cpu' ? cpus().length : resource === 'memory' ? totalmem() : 0;
  const raw = kind === 'limits' ? (limit === undefined ? nodeCapacity : parseQuantity(limit)) : request !== undefined ? parseQuantity(request) : 0;
  const divisor = ref.divisor === undefined || ref.divisor === '' ? 1 : parseQuantity(ref.divisor);
  if (divisor <= 0) throw new PodSetupError('FailedMount', `invalid divisor ${ref.divisor}`);
  return String(Math.ceil(raw / divisor - 1e-9));
}

function addDownward(out: Payload, items: DownwardAPIFile[] | undefined, mode: number, c: DownwardContext): void {
  for (const item of items ?? []) {
    let value: string;
    if (item.fieldRef !== undefined) value = fieldValue(item.fieldRef.fieldPath, c);
    else if (item.resourceFieldRef !== undefined) value = resourceValue(item.resourceFieldRef, c.pod);
    else continue;
    out.set(safePath(item.path), { content: Buffer.from(value, 'utf8'), mode: item.mode ?? mode });
  }
}

function addConfig(out: Payload, obj: ConfigObject, isSecret: boolean, items: KeyToPath[] | undefined, optional: boolean, mode: number): void {
  const data = configData(obj, isSecret);
  if (items === undefined || items.length === 0) {
    for (const [k, content] of data) out.set(safePath(k), { content, mode });
    return;
  }
  for (const item of items) {
    const content = data.get(item.key);
    if (content === undefined) {
      if (optional) continue;
      throw new PodSetupError('FailedMount', `configuration key ${JSON.stringify(item.key)} not found in ${obj.metadata.name}`);
    }
    out.set(safePath(item.path), { content, mode: item.mode ?? mode });
  }
}

async function token(
  pod: Pod,
  volume: string,
  src: ProjectedSources,
  s: { audience?: string; expirationSeconds?: number; path: string },
  cache: TokenCache,
  now: number,
): Promise<string> {
  const key = `${volume}/${s.path}`;
  const cached = cache.get(key);
  if (cached !== undefined && !tokenNeedsRefresh(cached, now)) return cached.token;
  const sa = pod.spec.serviceAccountName ?? 'default';
  const spec: TokenRequestSpec = {
    audiences: s.audience === undefined || s.audience === '' ? null : [s.audience],
    expirationSeconds: s.expirationSeconds ?? 3600,
    boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const issued = await src.getServiceAccountToken?.(pod.metadata.namespace ?? 'default', sa, spec).catch(() => undefined);
  if (issued === undefined || issued.token === '') {
    // Offline or refused: a token still held keeps the volume as it is (kubelet keeps it until it expires).
    if (cached !== undefined) return cached.token;
    throw new PodSetupError('FailedMount', `cannot get a token for service account "${sa}"`, { pod: pod.metadata.name });
  }
  const expiresAt = Date.parse(issued.expirationTimestamp);
  cache.set(key, { ...issued, fetchedAt: now, expiresAt: Number.isFinite(expiresAt) ? expiresAt : now + spec.expirationSeconds * 1000 });
  return issued.token;
}

/** The files of one projected or downwardAPI volume. */
export async function projectedPayload(pod: Pod, v: Volume, src: ProjectedSources, podIP: string, cache: TokenCache, now = Date.now()): Promise<Payload> {
  const out: Payload = new Map();
  const ns = pod.metadata.namespace ?? 'default';
  const c: DownwardContext = { pod, nodeName: src.nodeName, podIP };
  if (v.downwardAPI !== undefined) {
    addDownward(out, v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644, c);
    return out;
  }
  const mode = v.projected?.defaultMode ?? 0o644;
  for (const s of v.projected?.sources ?? []) {
    if (s.configMap !== undefined) {
      const obj = await src.getConfigMap(ns, s.configMap.name);
      if (obj === undefined) {
        if (s.configMap.optional === true) continue;
        throw new PodSetupError('FailedMount', `configmap "${s.configMap.name}" not found`, { namespace: ns });
      }
      addConfig(out, obj, false, s.configMap.items, s.configMap.optional === true, mode);
    } else if (s.secret !== undefined) {
      const obj = await src.getSecret(ns, s.secret.name);
      if (obj === undefined) {
        if (s.secret.optional === true) continue;
        throw new PodSetupError('FailedMount', `secret "${s.secret.name}" not found`, { namespace: ns });
      }
      addConfig(out, obj, true, s.secret.items, s.secret.optional === true, mode);
    } else if (s.downwardAPI !== undefined) {
      addDownward(out, s.downwardAPI.items, mode, c);
    } else if (s.serviceAccountToken !== undefined) {
      const t = await token(pod, v.name, src, s.serviceAccountToken, cache, now);
      out.set(safePath(s.serviceAccountToken.path), { content: Buffer.from(t, 'utf8'), mode });
    }
  }
  return out;
}

/**
 * (Re)writes every projected and downwardAPI volume of `pod` (atomically, and only what changed): tokens are
 * renewed as {@link tokenNeedsRefresh} says, configMap/secret sources re-read, pod fields re-evaluated.
 */
export async function writeProjectedVolumes(
  rootDirectory: string,
  pod: Pod,
  src: ProjectedSources,
  podIP: string,
  cache: TokenCache,
  now = Date.now(),
): Promise<void> {
  for (const v of pod.spec.volumes ?? []) {
    if (!isProjectedVolume(v)) continue;
    await writeAtomic(projectedVolumeDir(rootDirectory, pod.metadata.uid, v), await projectedPayload(pod, v, src, podIP, cache, now));
  }
}
