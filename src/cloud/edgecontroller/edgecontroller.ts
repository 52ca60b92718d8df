import type { Bus } from '../../core/bus.ts';
import { logger, type Logger } from '../../core/log.ts';
import { newResponse, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { goStatusError, isNotFound, type KubeRest } from '../../kube/rest.ts';
import type { CloudInformers } from '../common/informers/informers.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { forbiddenStatus, NodeAuthorizer, type AuthzMode, type AuthzStats, type AuthzVerdict } from './authz/node-authorizer.ts';
import { Downstream, type DownstreamStats } from './downstream/downstream.ts';
import { NodeMonitor } from './node-monitor.ts';
import { queryHandlers } from './upstream/configmap.ts';
import { eventHandlers } from './upstream/event.ts';
import { leaseHandlers } from './upstream/lease.ts';
import { nodeHandlers } from './upstream/node.ts';
import { podHandlers } from './upstream/pod.ts';
import { objectResp, type UpstreamContext, type UpstreamHandler, type UpstreamReply, type UpstreamRequest } from './upstream/types.ts';

export type EdgeControllerOptions = {
  enabled: boolean;
  kube: KubeRest;
  /** Set only with the embedded API server: there is no controller-manager to mark silent nodes. */
  nodeMonitor?: { gracePeriodMs: number; periodMs: number };
  /** cloudcore's shared informers; they enable the downstream half (pods, ConfigMaps, Secrets to the edges). */
  informers?: CloudInformers;
  /** The node authorizer's mode (default `audit`: denials logged and counted, not refused). */
  authorization?: AuthzMode;
  log?: Logger;
};

/** Resource types an edge may only touch for itself (name = its own node name), whatever the authorizer's mode. */
const OWN_NODE_TYPES = new Set(['node', 'nodepatch', 'nodestatus']);

/** Types whose replies are KubeEdge's `{Object, Err}`; the others (queries, pod delete) carry the bare error. */
const OBJECT_RESP_TYPES = new Set(['nodepatch', 'podpatch', 'lease', 'event']);

/** A refusal in the shape the edge expects for that request, so it fails the request instead of waiting. */
function refusal(req: UpstreamRequest, v: AuthzVerdict & { allowed: false }): UpstreamReply {
  const err = forbiddenStatus(req, v);
  const op = req.msg.route.operation ?? '';
  // Legacy podstatus is never answered.
  if (req.type === 'podstatus') return undefined;
  if (OBJECT_RESP_TYPES.has(req.type) || (req.type === 'node' && op !== 'query')) return { content: objectResp(null, err) };
  return { content: err };
}

/**
 * EdgeController, upstream half: turns the edges' requests into API server calls and answers them in
 * KubeEdge's reply shapes. Each request is handled on its own; a slow API call never blocks other nodes.
 */
export class EdgeController implements Module {
  readonly name = CloudModules.edgeController;
  readonly group = CloudGroups.edgeController;
  readonly enabled: boolean;
  readonly #o: EdgeControllerOptions;
  readonly #handlers: Map<string, UpstreamHandler>;
  /** The downstream half; undefined without `informers` or when disabled. */
  readonly #downstream: Downstream | undefined;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #monitor: NodeMonitor | undefined;
  readonly #authz: NodeAuthorizer;
  #inflight = new Set<Promise<void>>();

  constructor(o: EdgeControllerOptions) {
    this.#o = o;
    this.enabled = o.enabled;
    this.#handlers = new Map(Object.entries({ ...nodeHandlers, ...leaseHandlers(), ...podHandlers, ...eventHandlers, ...queryHandlers }));
    const inf = o.informers;
    this.#authz = new NodeAuthorizer({
      mode: o.authorization ?? 'audit',
      kube: o.kube,
      ...(inf === undefined ? {} : { cache: { podsOn: (n) => inf.podsOn(n), pod: (ns, name) => inf.pods.get(ns, name) } }),
      log: o.log ?? logger(CloudModules.edgeController),
    });
    this.#downstream =
      o.informers === undefined || !o.enabled
        ? undefined
        : new Downstream({
            informers: o.informers,
            log: o.log ?? logger(CloudModules.edgeController),
            send: (m) => this.#bus?.send(CloudModules.cloudHub, m),
            slicesServed: async () => {
              try {
                await o.kube.get('/apis/discovery.k8s.io/v1');
                return true;
              } catch (err) {
                if (isNotFound(err)) return false;
                throw err;
              }
            },
          });
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    if (this.#o.nodeMonitor !== undefined) {
      this.#monitor = new NodeMonitor({ kube: this.#o.kube, log: ctx.log, ...this.#o.nodeMonitor });
      this.#monitor.start();
    }
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
    this.#downstream?.start();
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#monitor?.stop();
    this.#downstream?.stop();
    await Promise.allSettled([...this.#inflight]);
  }

  /** Counters of the downstream half (undefined without it). */
  downstreamStats(): DownstreamStats | undefined {
    return this.#downstream?.stats();
  }

  /** The node authorizer's counters (denials, by node). */
  authorizationStats(): AuthzStats {
    return this.#authz.stats();
  }

  #onMessage(msg: Message): void {
    const op = msg.route.operation ?? '';
    if (msg.route.source === CloudModules.cloudHub && (op === 'connected' || op === 'disconnected')) {
      this.#log?.info({ node: (msg.route.resource ?? '').split('/')[1], op }, 'edge session event');
      // A (re)connected edge gets what changed while it was away.
      if (op === 'connected') this.#bus?.send(CloudModules.syncController, msg);
      return;
    }
    const req = splitUpstream(msg);
    if (req === undefined) {
      this.#log?.warn({ resource: msg.route.resource, op }, 'upstream message without node/<id>/ns/type/name resource dropped');
      return;
    }
    const handler = this.#handlers.get(`${req.type}:${op}`);
    if (handler === undefined) {
      this.#log?.debug({ resource: msg.route.resource, op }, 'no upstream handler');
      return;
    }
    if (OWN_NODE_TYPES.has(req.type) && req.name !== req.nodeId) {
      // Never let through, not even in audit mode: this refusal predates the authorizer.
      const reply = refusal(req, { allowed: false, verb: op, resource: 'nodes', reason: `node '${req.nodeId}' may only change its own Node` });
      if (reply !== undefined) this.#reply(req, reply);
      this.#log?.warn({ node: req.nodeId, target: req.name, type: req.type, op }, 'edge tried to act on another node, refused');
      return;
    }
    const p = this.#handle(handler, req).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  async #handle(handler: UpstreamHandler, req: UpstreamRequest): Promise<void> {
    const log = this.#log;
    if (log === undefined) return;
    const ctx: UpstreamContext = { kube: this.#o.kube, log };
    const verdict = await this.#authz.admit(req);
    if (!verdict.allowed) {
      const reply = refusal(req, verdict);
      if (reply !== undefined) this.#reply(req, reply);
      return;
    }
    try {
      const reply = await handler(ctx, req);
      if (reply !== undefined) this.#reply(req, reply);
    } catch (err) {
      log.error({ resource: req.msg.route.resource, err }, 'upstream handler failed');
      this.#reply(req, { content: goStatusError(err) });
    }
  }

  #reply(req: UpstreamRequest, reply: { content: unknown; resourceVersion?: string }): void {
    const resp = newResponse(req.msg, reply.content, {
      source: CloudModules.edgeController,
      group: 'resource',
      ...(reply.resourceVersion === undefined ? {} : { resourceVersion: reply.resourceVersion }),
    });
    this.#bus?.send(CloudModules.cloudHub, resp);
  }
}

/** `node/<nodeId>/<namespace>/<type>/<name>` → parts; undefined for anything else. */
export function splitUpstream(msg: Message): UpstreamRequest | undefined {
  const parts = (msg.route.resource ?? '').split('/');
  if (parts[0] !== 'node' || parts.length < 4) return undefined;
  const [, nodeId = '', namespace = '', type = '', ...rest] = parts;
  return { msg, nodeId, namespace, type, name: rest.join('/') };
}
