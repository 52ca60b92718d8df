import type { AddressInfo } from 'node:net';
import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { newMessage, Operation, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { cloudMetrics } from '../../metrics/cloud.ts';
import { messageLabels } from '../../metrics/labels.ts';
import { CloudGroups, CloudModules } from '../common/modules.ts';
import { EdgeIdentityPolicy, type EdgeIdentityOptions, type EdgeIdentityStats } from '../../pki/edge-identity.ts';
import { CloudHubError } from './errors.ts';
import { ReliableQueue, type AckRecordStore, type ReliableQueueOptions, type ReliableStats } from './reliable/queue.ts';
import { isOwnNodeDelete, stripNodePrefix, upstreamTarget, withNodePrefix } from './routing.ts';
import { SessionManager } from './session-manager.ts';
import { CloudWsServer, emptyWsStats, type NodeConnection, type WsServerStats } from './ws-server.ts';

export type CloudHubOptions = {
  address: string;
  port: number;
  caPem: string;
  certPem: string;
  keyPem: string;
  nodeLimit: number;
  keepaliveIntervalSec: number;
  writeTimeoutSec: number;
  maxMessageBytes?: number;
  upstreamQps?: number;
  upstreamBurst?: number;
  /**
   * Where acked resourceVersions are kept (the ObjectSyncs). With it, ack-required downstream messages go
   * through CloudHub's reliable queue (KubeEdge's reliable sync); without it everything is fire-and-forget.
   */
  objectSyncs?: AckRecordStore;
  /**
   * Who a client certificate may speak for (default: shared certificates allowed, no Node lookup). A certificate
   * naming node A is always refused for node B.
   */
  identity?: Omit<EdgeIdentityOptions, 'log'>;
  /** Timing of the reliable queue (defaults: KubeEdge's). */
  reliable?: Pick<ReliableQueueOptions, 'retryIntervalMs' | 'maxRetries' | 'requeueDelayMs'>;
};

export type CloudHubStats = WsServerStats & {
  connectedNodes: number;
  messagesIn: number;
  messagesOut: number;
  keepalives: number;
  acks: number;
  /** Downstream messages dropped because the node had no session (or the message had no node prefix). */
  downstreamDropped: number;
};

/**
 * CloudHub (`cloudhub`): the cloud end of the edge link. Downstream `node/<n>/...` messages lose their prefix
 * and go to node n's socket; upstream messages gain it and go to the controllers.
 */
export class CloudHub implements Module {
  readonly name = CloudModules.cloudHub;
  readonly group = CloudGroups.cloudHub;
  readonly enabled = true;
  readonly #o: CloudHubOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #server: CloudWsServer | undefined;
  #sessions: SessionManager | undefined;
  #reliable: ReliableQueue | undefined;
  #identity: EdgeIdentityPolicy | undefined;
  readonly #counts = { messagesIn: 0, messagesOut: 0, keepalives: 0, acks: 0, downstreamDropped: 0 };

  constructor(o: CloudHubOptions) {
    if (o.nodeLimit < 1 || o.keepaliveIntervalSec <= 0 || o.writeTimeoutSec <= 0) {
      throw new CloudHubError('KE_CLOUDHUB_CONFIG', 'nodeLimit, keepaliveIntervalSec and writeTimeoutSec must be positive', {
        nodeLimit: o.nodeLimit,
        keepaliveIntervalSec: o.keepaliveIntervalSec,
        writeTimeoutSec: o.writeTimeoutSec,
      });
    }
    this.#o = o;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    const sessions = new SessionManager({
      nodeLimit: this.#o.nodeLimit,
      keepaliveIntervalSec: this.#o.keepaliveIntervalSec,
      log: ctx.log,
    });
    this.#sessions = sessions;
    const identity = new EdgeIdentityPolicy({ allowSharedCerts: true, ...this.#o.identity, log: ctx.log.child({ part: 'identity' }) });
    this.#identity = identity;
    if (this.#o.objectSyncs !== undefined) {
      this.#reliable = new ReliableQueue({
        ...this.#o.reliable,
        store: this.#o.objectSyncs,
        link: { dispatch: (n, m) => this.dispatch(n, m), isConnected: (n) => this.isConnected(n) },
        log: ctx.log.child({ part: 'reliable' }),
      });
    }
    this.#server = new CloudWsServer({
      address: this.#o.address,
      port: this.#o.port,
      caPem: this.#o.caPem,
      certPem: this.#o.certPem,
      keyPem: this.#o.keyPem,
      writeTimeoutMs: this.#o.writeTimeoutSec * 1000,
      ...(this.#o.maxMessageBytes !== undefined ? { maxMessageBytes: this.#o.maxMessageBytes } : {}),
      ...(this.#o.upstreamQps !== undefined ? { upstreamQps: this.#o.upstreamQps } : {}),
      ...(this.#o.upstreamBurst !== undefined ? { upstreamBurst: this.#o.upstreamBurst } : {}),
      log: ctx.log,
      handlers: {
        admit: (nodeId) => sessions.admit(nodeId),
        authenticate: (nodeId, cert) => identity.check(nodeId, cert),
        onOpen: (conn) => this.#onOpen(conn),
        onMessage: (conn, msg) => this.#onUpstream(conn, msg),
        onClose: (conn, code, reason) => this.#onClose(conn, code, reason),
      },
    });
    const addr = await this.#server.listen();
    ctx.bus.register(this.name, this.group, (msg) => this.#onDownstream(msg));
    ctx.log.info({ address: addr.address, port: addr.port, nodeLimit: this.#o.nodeLimit }, 'cloudhub listening');
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    this.#reliable?.stop();
    this.#sessions?.closeAll('cloudhub stopping');
    await this.#server?.close();
  }

  /** The bound address (useful with port 0). */
  address(): AddressInfo | null {
    return this.#server?.address() ?? null;
  }

  isConnected(nodeId: string): boolean {
    return this.#sessions?.get(nodeId) !== undefined;
  }

  /** The node's current connection, if any. */
  connection(nodeId: string): NodeConnection | undefined {
    return this.#sessions?.get(nodeId)?.conn;
  }

  connectedNodes(): string[] {
    return this.#sessions?.nodes() ?? [];
  }

  /** The reliable queue's counters; undefined without `objectSyncs` or before start. */
  reliableStats(): ReliableStats | undefined {
    return this.#reliable?.stats();
  }

  /** Certificates seen per kind, refusals per reason, and the nodes on shared certificates. */
  identityStats(): EdgeIdentityStats | undefined {
    return this.#identity?.stats();
  }

  stats(): CloudHubStats {
    const server = this.#server?.stats() ?? emptyWsStats();
    return { ...server, ...this.#counts, connectedNodes: this.#sessions?.size ?? 0 };
  }

  /** Sends one message (already in the edge's short form) to a node. Returns false when the node has no session. */
  async dispatch(nodeId: string, msg: Message): Promise<boolean> {
    const s = this.#sessions?.get(nodeId);
    if (s === undefined) {
      this.#counts.downstreamDropped++;
      this.#log?.debug({ nodeId, resource: msg.route.resource, operation: msg.route.operation }, 'node not connected, message dropped');
      return false;
    }
    try {
      await s.conn.send(msg);
      this.#counts.messagesOut++;
      cloudMetrics.messagesOut.inc(messageLabels(msg));
      return true;
    } catch (err) {
      this.#log?.warn({ nodeId, err, resource: msg.route.resource }, 'send to node failed');
      return false;
    }
  }

  #onDownstream(msg: Message): void {
    const d = stripNodePrefix(msg);
    if (d === undefined) {
      this.#counts.downstreamDropped++;
      this.#log?.warn({ resource: msg.route.resource, operation: msg.route.operation }, 'downstream message without node/<id>/ prefix dropped');
      return;
    }
    if (isOwnNodeDelete(d.nodeId, d.msg)) {
      const s = this.#sessions?.get(d.nodeId);
      this.#log?.info({ nodeId: d.nodeId }, 'node deleted, closing its session');
      s?.conn.close('node deleted');
      this.#reliable?.forgetNode(d.nodeId);
      return;
    }
    if (this.#reliable !== undefined) this.#reliable.send(d.nodeId, d.msg);
    else void this.dispatch(d.nodeId, d.msg);
  }

  #onOpen(conn: NodeConnection): void {
    const replaced = this.#sessions?.open(conn);
    // A replacement keeps the node connected; edgecontroller only hears "connected" again.
    this.#sessionEvent(conn.nodeId, 'connected', replaced !== undefined);
    this.#reliable?.onConnected(conn.nodeId);
  }

  #onClose(conn: NodeConnection, code: number, reason: string): void {
    const wasCurrent = this.#sessions?.closed(conn) ?? false;
    this.#log?.info({ nodeId: conn.nodeId, code, reason, wasCurrent }, 'edge connection closed');
    if (wasCurrent) {
      this.#reliable?.onDisconnected(conn.nodeId);
      this.#sessionEvent(conn.nodeId, 'disconnected', false);
    }
  }

  #sessionEvent(nodeId: string, operation: 'connected' | 'disconnected', replaced: boolean): void {
    const m = newMessage({ source: CloudModules.cloudHub, group: 'resource', operation, resource: `node/${nodeId}` });
    this.#log?.debug({ nodeId, operation, replaced }, 'session event');
    this.#bus?.send(CloudModules.edgeController, m);
  }

  #onUpstream(conn: NodeConnection, msg: Message): void {
    const sessions = this.#sessions;
    const bus = this.#bus;
    if (sessions === undefined || bus === undefined) return;
    if (!sessions.isCurrent(conn)) {
      this.#log?.debug({ nodeId: conn.nodeId }, 'message on a replaced connection ignored');
      return;
    }
    this.#counts.messagesIn++;
    cloudMetrics.messagesIn.inc(messageLabels(msg));
    const op = msg.route.operation;
    if (op === Operation.keepalive) {
      this.#counts.keepalives++;
      sessions.keepalive(conn);
      return;
    }
    const prefixed = withNodePrefix(conn.nodeId, msg);
    const parent = msg.header.parent_msg_id;
    if ((op === Operation.response || op === Operation.error) && parent !== undefined && parent !== '') {
      // Acks and replies: complete a cloud-side waiter if any, and tell the reliable queue.
      this.#counts.acks++;
      bus.respond(prefixed);
      if (op === Operation.response) this.#reliable?.onAck(conn.nodeId, msg);
      return;
    }
    if (op === Operation.error) {
      this.#log?.warn({ nodeId: conn.nodeId, resource: msg.route.resource, content: msg.content }, 'edge reported an error');
      return;
    }
    const target = upstreamTarget(msg);
    if (!bus.send(target, prefixed)) {
      this.#log?.debug({ nodeId: conn.nodeId, target, resource: msg.route.resource }, 'no module for upstream message');
    }
  }
}
