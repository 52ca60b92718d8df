import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KObj } from './store.ts';
import { ApiError } from './status.ts';

/**
 * How the embedded server reaches a node's kubelet API (cloudcore passes CloudStream's tunnel proxy; the API
 * server imports nothing from cloud). `path` is the kubelet's (C1): /containerLogs/..., /exec/..., /portForward/...
 */
export type KubeletProxy = {
  request(node: string, path: string, req: IncomingMessage, res: ServerResponse): void;
  upgrade(node: string, path: string, req: IncomingMessage, socket: Duplex, head: Buffer): void;
};

/** Pod subresources served by the node's kubelet, and the RBAC verb each needs (as kube-apiserver 1.31+). */
export const POD_STREAM_SUBRESOURCES: Readonly<Record<string, 'get' | 'create'>> = { log: 'get', exec: 'create', attach: 'create', portforward: 'create' };

const LOG_PARAMS = ['follow', 'tailLines', 'sinceSeconds', 'sinceTime', 'timestamps', 'previous', 'limitBytes'];
const EXEC_PARAMS = ['command', 'stdin', 'stdout', 'stderr', 'tty'];

function containerOf(pod: KObj, query: URLSearchParams, sub: string): string {
  const spec = (pod['spec'] ?? {}) as { containers?: { name?: string }[] };
  const names = (spec.containers ?? []).map((c) => c.name ?? '').filter((n) => n !== '');
  const podName = String(pod.metadata?.name ?? '');
  const asked = query.get('container') ?? '';
  if (asked !== '') {
    const init = ((pod['spec'] as { initContainers?: { name?: string }[] } | undefined)?.initContainers ?? []).map((c) => c.name);
    if (!names.includes(asked) && !init.includes(asked)) {
      throw new ApiError(400, 'BadRequest', `container ${asked} is not valid for pod ${podName}`);
    }
    return asked;
  }
  if (names.length === 1) return names[0] as string;
  if (sub === 'log') throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
  throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
}

function pass(query: URLSearchParams, keys: string[]): string {
  const out = new URLSearchParams();
  for (const k of keys) for (const v of query.getAll(k)) out.append(k, v);
  const s = out.toString();
  return s === '' ? '' : `?${s}`;
}

/** The pod's node and the kubelet path for one pod subresource request, or an ApiError as kube-apiserver answers. */
export function kubeletTarget(pod: KObj, sub: string, query: URLSearchParams): { node: string; path: string } {
  const ns = encodeURIComponent(String(pod.metadata?.namespace ?? 'default'));
  const name = encodeURIComponent(String(pod.metadata?.name ?? ''));
  const node = String((pod['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '');
  if (node === '') throw new ApiError(400, 'BadRequest', `pod ${decodeURIComponent(name)} does not have a host assigned`);
  switch (sub) {
    case 'log':
      return { node, path: `/containerLogs/${ns}/${name}/${encodeURIComponent(containerOf(pod, query, sub))}${pass(query, LOG_PARAMS)}` };
    case 'exec':
    case 'attach':
      return { node, path: `/${sub}/${ns}/${name}/${encodeURIComponent(containerOf(pod, query, sub))}${pass(query, EXEC_PARAMS)}` };
    case 'portforward':
      return { node, path: `/portForward/${ns}/${name}${pass(query, ['ports'])}` };
    default:
      throw new ApiError(404, 'NotFound', `pods/${sub} is not served`);
  }
}
