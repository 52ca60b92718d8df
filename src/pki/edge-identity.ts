import type { X509Certificate } from 'node:crypto';
import type { Logger } from '../core/log.ts';
import { nodeIdentity, SHARED_EDGE_CN } from './node-identity.ts';

/**
 * How long after its notBefore a node certificate may still connect for a node that has no Node object: long
 * enough for a fresh edge to enrol, dial and register, far shorter than any certificate's life. Past it, a
 * missing Node means the node was deleted and its certificate is no longer good (revocation by existence).
 */
export const DEFAULT_ENROLMENT_GRACE_MS = 10 * 60_000;

export type EdgeIdentityOptions = {
  /**
   * Accept certificates that name no node (KubeEdge's shared CN=kubeedge.io, or any other CN from our CA): the
   * `node_id` header is then trusted, as in KubeEdge with authorization off. One warning per node.
   */
  allowSharedCerts: boolean;
  /** Whether a Node object exists; a rejection means "cannot tell" and lets the edge in. */
  nodeExists?: (name: string) => Promise<boolean>;
  enrolmentGraceMs?: number;
  now?: () => number;
  log: Logger;
};

export type IdentityRefusal = 'cert_node_mismatch' | 'shared_cert' | 'node_deleted';

export type IdentityVerdict = { ok: true; identity: 'node' | 'shared' } | { ok: false; status: number; reason: string; refusal: IdentityRefusal };

export type EdgeIdentityStats = {
  named: number;
  shared: number;
  refused: Record<IdentityRefusal, number>;
  /** Nodes that connected with a certificate naming no node (each warned once). */
  sharedCertNodes: string[];
};

/**
 * Ties the node an edge claims (`node_id` header, `NodeName` on the certificate service, `SessionHostNameOverride`
 * on a tunnel) to its client certificate: a certificate for node A never speaks for node B; a shared certificate only while the switch
 * allows it; and a node certificate of a deleted node is refused.
 */
export class EdgeIdentityPolicy {
  readonly #o: EdgeIdentityOptions;
  readonly #warned = new Set<string>();
  readonly #stats = { named: 0, shared: 0, refused: { cert_node_mismatch: 0, shared_cert: 0, node_deleted: 0 } };

  constructor(o: EdgeIdentityOptions) {
    this.#o = o;
  }

  get allowSharedCerts(): boolean {
    return this.#o.allowSharedCerts;
  }

  stats(): EdgeIdentityStats {
    return { ...structuredClone(this.#stats), sharedCertNodes: [...this.#warned] };
  }

  async check(nodeId: string, cert: X509Certificate | { subject: string; validFrom: string }): Promise<IdentityVerdict> {
    const v = await this.#decide(nodeId, cert);
    if (!v.ok) {
      this.#stats.refused[v.refusal]++;
      this.#o.log.warn({ node: nodeId, refusal: v.refusal, reason: v.reason }, 'edge identity refused');
    } else if (v.identity === 'node') this.#stats.named++;
    else this.#stats.shared++;
    return v;
  }

  async #decide(nodeId: string, cert: X509Certificate | { subject: string; validFrom: string }): Promise<IdentityVerdict> {
    const id = nodeIdentity(cert);
    if (id.kind === 'node') {
      if (id.name !== nodeId) {
        return { ok: false, status: 403, refusal: 'cert_node_mismatch', reason: `certificate is for node "${id.name}", not "${nodeId}"` };
      }
      return this.#stillExists(nodeId, cert);
    }
    const cn = id.kind === 'shared' ? SHARED_EDGE_CN : (id.cn ?? '');
    if (!this.#o.allowSharedCerts) {
      return {
        ok: false,
        status: 403,
        refusal: 'shared_cert',
        reason: `certificate CN=${cn} names no node (want CN=system:node:${nodeId}); join again with a token, or allow shared certificates with modules.cloudHub.authorization.enable: false`,
      };
    }
    if (!this.#warned.has(nodeId)) {
      this.#warned.add(nodeId);
      this.#o.log.warn(
        { node: nodeId, cn },
        'edge uses a certificate that names no node: its node_id is taken on trust (set modules.cloudHub.authorization.enable: true to refuse; our edges get a named certificate at their next rotation)',
      );
    }
    return { ok: true, identity: 'shared' };
  }

  async #stillExists(nodeId: string, cert: { validFrom: string }): Promise<IdentityVerdict> {
    if (this.#o.nodeExists === undefined) return { ok: true, identity: 'node' };
    let exists: boolean;
    try {
      exists = await this.#o.nodeExists(nodeId);
    } catch (err) {
      // An API server that is down must not lock every edge out; the next reconnect asks again.
      this.#o.log.warn({ node: nodeId, err }, 'cannot check whether the node exists; letting it connect');
      return { ok: true, identity: 'node' };
    }
    if (exists) return { ok: true, identity: 'node' };
    const issued = Date.parse(cert.validFrom);
    const now = (this.#o.now ?? Date.now)();
    const grace = this.#o.enrolmentGraceMs ?? DEFAULT_ENROLMENT_GRACE_MS;
    if (Number.isFinite(issued) && now - issued <= grace) return { ok: true, identity: 'node' };
    return {
      ok: false,
      status: 403,
      refusal: 'node_deleted',
      reason: `node "${nodeId}" does not exist and its certificate (issued ${Number.isFinite(issued) ? new Date(issued).toISOString() : '?'}) is older than the ${Math.round(grace / 60_000)}-minute enrolment window: a deleted node's certificate is void; join again with a token`,
    };
  }
}
