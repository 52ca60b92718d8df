import { contentAsObject } from '../../../core/message.ts';
import type { Logger } from '../../../core/log.ts';
import { isNotFound, paths, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import { nodeCommonName } from '../../../pki/node-identity.ts';
import { podReferences } from '../../common/pod-refs.ts';
import type { UpstreamRequest } from '../upstream/types.ts';

/**
 * `enforce` refuses what a node may not do; `audit` (KubeEdge's `authorization.debug`, and our default while
 * `authorization.enable` is false) lets it through but logs and counts it; `off` (`modes[].node.enable: false`)
 * does not look.
 */
export type AuthzMode = 'enforce' | 'audit' | 'off';

export type AuthzVerdict = { allowed: true } | { allowed: false; verb: string; resource: string; reason: string };

/** Where the authorizer learns which pods a node runs: the shared informer cache first, the API server when it is not there. */
export type PodLookup = {
  podsOn(node: string): KubeObject[];
  pod(namespace: string, name: string): KubeObject | undefined;
};

export type NodeAuthorizerOptions = { mode: AuthzMode; kube: KubeRest; cache?: PodLookup; log: Logger };

export type AuthzStats = {
  allowed: number;
  denied: number;
  /** Denials let through because the mode is `audit`. */
  audited: number;
  deniedByNode: Record<string, number>;
};

const LEASE_NAMESPACE = 'kube-node-lease';

const nodeOf = (pod: KubeObject | undefined): string | undefined => (pod?.['spec'] as { nodeName?: string } | undefined)?.nodeName;

/**
 * The node authorizer, after Kubernetes' (plugin/pkg/auth/authorizer/node): an edge may read the ConfigMaps,
 * Secrets, PVCs and ServiceAccount tokens its own pods reference, write its own Node and Lease and its own pods'
 * status, and delete its own pods. Everything else an edge sends EdgeController is refused. Requests about a pod
 * that does not exist pass: the handler answers NotFound and changes nothing.
 */
export class NodeAuthorizer {
  readonly #o: NodeAuthorizerOptions;
  readonly #stats: AuthzStats = { allowed: 0, denied: 0, audited: 0, deniedByNode: {} };
  /** Per node: when the last denial was logged and how many were not logged since (a flood is not a log flood). */
  readonly #logged = new Map<string, { at: number; suppressed: number }>();

  constructor(o: NodeAuthorizerOptions) {
    this.#o = o;
  }

  get mode(): AuthzMode {
    return this.#o.mode;
  }

  stats(): AuthzStats {
    return structuredClone(this.#stats);
  }

  /** Whether the request may go on to its handler; a denial has already been counted and logged. */
  async admit(req: UpstreamRequest): Promise<AuthzVerdict> {
    if (this.#o.mode === 'off') return { allowed: true };
    let v: AuthzVerdict;
    try {
      v = await this.authorize(req);
    } catch (err) {
      // The API server could not tell us: refuse (enforce) rather than guess; the edge retries.
      v = {
        allowed: false,
        verb: req.msg.route.operation ?? '',
        resource: req.type,
        reason: `cannot check: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (v.allowed) {
      this.#stats.allowed++;
      return v;
    }
    this.#stats.denied++;
    this.#stats.deniedByNode[req.nodeId] = (this.#stats.deniedByNode[req.nodeId] ?? 0) + 1;
    const audit = this.#o.mode === 'audit';
    if (audit) this.#stats.audited++;
    this.#note(req, v, audit);
    return audit ? { allowed: true } : v;
  }

  /** The decision alone, without counting or logging. */
  async authorize(req: UpstreamRequest): Promise<AuthzVerdict> {
    const op = req.msg.route.operation ?? '';
    const deny = (verb: string, resource: string, reason: string): AuthzVerdict => ({ allowed: false, verb, resource, reason });
    const node = req.nodeId;
    switch (req.type) {
      case 'node':
      case 'nodepatch':
      case 'nodestatus':
        return req.name === node ? { allowed: true } : deny(op === 'query' ? 'get' : 'patch', 'nodes', `node '${node}' may only change its own Node`);
      case 'lease':
        return req.name === node && req.namespace === LEASE_NAMESPACE
          ? { allowed: true }
          : deny(op === 'query' ? 'get' : 'update', 'leases', `node '${node}' may only use its own Lease ${LEASE_NAMESPACE}/${node}`);
      case 'podpatch':
        return this.#ownPods(node, req.namespace, [req.name], 'patch');
      case 'pod':
        return this.#ownPods(node, req.namespace, [req.name], op === 'delete' ? 'delete' : 'create');
      case 'podstatus':
        return this.#ownPods(node, req.namespace, legacyStatusNames(req), 'update');
      case 'configmap':
        return this.#referenced(node, req, 'configmaps', (r) => r.configmaps.includes(req.name));
      case 'secret':
        return this.#referenced(node, req, 'secrets', (r) => r.secrets.includes(req.name));
      case 'persistentvolumeclaim':
        return this.#referenced(node, req, 'persistentvolumeclaims', (r) => r.pvcs.includes(req.name));
      case 'serviceaccounttoken':
        return this.#serviceAccountToken(node, req);
      case 'event':
        // Kubernetes lets every node write events (system:node RBAC); the node authorizer has no opinion.
        return { allowed: true };
      default:
        return deny(op, req.type, `no rule lets a node ${op} ${req.type}`);
    }
  }

  async #pod(namespace: string, name: string): Promise<KubeObject | undefined> {
    const cached = this.#o.cache?.pod(namespace, name);
    if (cached !== undefined) return cached;
    try {
      return await this.#o.kube.get(paths.namespaced(namespace, 'pods', name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #ownPods(node: string, namespace: string, names: string[], verb: string): Promise<AuthzVerdict> {
    for (const name of names) {
      const pod = await this.#pod(namespace, name);
      const boundTo = nodeOf(pod);
      if (pod !== undefined && boundTo !== node) {
        return { allowed: false, verb, resource: 'pods', reason: `pod ${namespace}/${name} is bound to node '${boundTo ?? ''}', not '${node}'` };
      }
    }
    return { allowed: true };
  }

  /** Pods bound to the node in a namespace: the cache, and the API server when the cache has no match (it may lag). */
  async #podsMatching(node: string, namespace: string, pred: (pod: KubeObject) => boolean): Promise<boolean> {
    const inNs = (p: KubeObject) => p.metadata?.namespace === namespace;
    if (this.#o.cache?.podsOn(node).some((p) => inNs(p) && pred(p)) === true) return true;
    const selector = encodeURIComponent(`spec.nodeName=${node}`);
    const list = await this.#o.kube.get<{ items?: KubeObject[] }>(`${paths.namespaced(namespace, 'pods')}?fieldSelector=${selector}`);
    return (list.items ?? []).some((p) => nodeOf(p) === node && pred({ ...p, metadata: { ...p.metadata, namespace } }));
  }

  async #referenced(node: string, req: UpstreamRequest, resource: string, uses: (r: ReturnType<typeof podReferences>) => boolean): Promise<AuthzVerdict> {
    const ok = await this.#podsMatching(node, req.namespace, (p) => uses(podReferences(p)));
    return ok ? { allowed: true } : { allowed: false, verb: 'get', resource, reason: `no relationship found between node '${node}' and this object` };
  }

  async #serviceAccountToken(node: string, req: UpstreamRequest): Promise<AuthzVerdict> {
    const deny = (reason: string): AuthzVerdict => ({ allowed: false, verb: 'create', resource: 'serviceaccounts/token', reason });
    const c = contentAsObject(req.msg) as { spec?: { boundObjectRef?: { kind?: unknown; name?: unknown } } } | null;
    const bound = c?.spec?.boundObjectRef;
    if (bound !== undefined && bound !== null) {
      // As Kubernetes: a node may only mint tokens bound to its own pods.
      if (bound.kind !== 'Pod' || typeof bound.name !== 'string') return deny('a node may only request tokens bound to one of its pods');
      const pod = await this.#pod(req.namespace, bound.name);
      if (pod === undefined || nodeOf(pod) !== node) return deny(`pod ${req.namespace}/${bound.name} is not bound to node '${node}'`);
      return podReferences(pod).serviceAccount === req.name
        ? { allowed: true }
        : deny(`pod ${req.namespace}/${bound.name} does not use service account ${req.name}`);
    }
    const ok = await this.#podsMatching(node, req.namespace, (p) => podReferences(p).serviceAccount === req.name);
    return ok ? { allowed: true } : deny(`no relationship found between node '${node}' and this object`);
  }

  #note(req: UpstreamRequest, v: AuthzVerdict & { allowed: false }, audit: boolean): void {
    const now = Date.now();
    const last = this.#logged.get(req.nodeId);
    if (last !== undefined && now - last.at < 1000) {
      last.suppressed++;
      return;
    }
    this.#logged.set(req.nodeId, { at: now, suppressed: 0 });
    this.#o.log.warn(
      {
        node: req.nodeId,
        verb: v.verb,
        resource: v.resource,
        namespace: req.namespace,
        name: req.name,
        reason: v.reason,
        mode: this.#o.mode,
        alsoDeniedSinceLastLine: last?.suppressed ?? 0,
      },
      audit ? 'node authorizer would deny (audit mode: let through)' : 'node authorizer denied request',
    );
  }
}

function legacyStatusNames(req: UpstreamRequest): string[] {
  const c = contentAsObject(req.msg);
  const list = (Array.isArray(c) ? c : [c]).filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  const names = list.map((s) => (typeof s['Name'] === 'string' ? s['Name'] : typeof s['name'] === 'string' ? s['name'] : req.name)).filter((n) => n !== '');
  return names.length === 0 ? [req.name] : names;
}

/** A Kubernetes Forbidden Status as Go's StatusError serialises it, for the `Err` of KubeEdge's replies. */
export function forbiddenStatus(req: UpstreamRequest, v: AuthzVerdict & { allowed: false }): { ErrStatus: Record<string, unknown> } {
  const user = nodeCommonName(req.nodeId);
  const where = req.namespace === '' || req.namespace === 'null' ? 'at the cluster scope' : `in the namespace "${req.namespace}"`;
  const [resource = v.resource, sub] = v.resource.split('/');
  const what = sub === undefined ? `resource "${resource}"` : `resource "${resource}/${sub}"`;
  return {
    ErrStatus: {
      metadata: {},
      status: 'Failure',
      message: `${resource} "${req.name}" is forbidden: User "${user}" cannot ${v.verb} ${what} in API group "" ${where}: ${v.reason}`,
      reason: 'Forbidden',
      details: { name: req.name, kind: resource },
      code: 403,
    },
  };
}
