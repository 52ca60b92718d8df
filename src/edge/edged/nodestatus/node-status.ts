import type { Bus } from '../../../core/bus.ts';
import type { Logger } from '../../../core/log.ts';
import { EdgeGroups, EdgeModules } from '../../common/modules.ts';
import { buildResource, contentAsObject, newMessage, Operation, ResourceType, type Message } from '../../../core/message.ts';
import { errorCode, unwrapReply } from '../../metamanager/replies.ts';
import { EdgedRequestError } from './errors.ts';
import type { HostInfo } from './host-info.ts';
import {
  k8sMicroTime,
  k8sTime,
  LEASE_NAMESPACE,
  type MeasuredConditions,
  newLease,
  nodeStatusPatch,
  registrationNode,
  renewedLease,
  type Lease,
} from './node-object.ts';
import { Periodic, type StillCurrent } from './periodic.ts';

export type NodeStatusOptions = {
  nodeName: string;
  registerNodeNamespace: string;
  nodeLabels: Record<string, string>;
  /** How often the node status is computed; KubeEdge's default is 10 s. */
  updateFrequencyMs: number;
  /**
   * How often an unchanged status is sent anyway (kubelet's nodeStatusReportFrequency, 5 min). Liveness is the
   * lease's job; a status that did not change costs the cloud a write per node per tick for nothing.
   */
  reportFrequencyMs?: number;
  /** Lease duration; the lease is renewed every quarter of it. */
  leaseDurationSeconds: number;
  /** Per-request timeout; default: the loop's period, at least 5 s. */
  requestTimeoutMs?: number;
  /** Collected afresh on every status tick. */
  hostInfo: () => HostInfo;
  /** Whether the node's filesystems are under pressure now; absent = never (DiskPressure False). */
  diskPressure?: () => boolean;
};

const META = EdgeModules.metaManager;

/**
 * Registers the Node, then keeps it current as kubelet does: the status is computed every `updateFrequencyMs`
 * and sent as a `nodepatch` when it changed, after a reconnect or a failed lease renewal (the cloud may have
 * marked the node Unknown meanwhile), or at least every `reportFrequencyMs`; the Lease is renewed every
 * leaseDuration/4. Everything goes through metamanager; every failure is logged and retried on the next tick.
 */
export class NodeStatusManager {
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #o: NodeStatusOptions;
  readonly #status: Periodic;
  readonly #lease: Periodic;
  readonly #leaseIntervalMs: number;
  /** The registered Node's uid ('' if the cloud gave none); undefined until the node is known to exist. */
  #nodeUid: string | undefined;
  #leaseObj: Lease | undefined;
  #transition = k8sTime();
  #disk: { status: boolean; since: string } | undefined;
  /** The last status the cloud accepted, timestamps left out, and when. */
  #lastReported: { fingerprint: string; at: number } | undefined;

  constructor(bus: Bus, log: Logger, o: NodeStatusOptions) {
    this.#bus = bus;
    this.#log = log;
    this.#o = o;
    this.#leaseIntervalMs = Math.max(1, Math.floor((o.leaseDurationSeconds * 1000) / 4));
    this.#status = new Periodic('node-status', o.updateFrequencyMs, (c) => this.#statusTick(c), log);
    this.#lease = new Periodic(
      'node-lease',
      this.#leaseIntervalMs,
      (c) =>
        this.#leaseTick(c).catch((err: unknown) => {
          this.#lastReported = undefined;
          throw err;
        }),
      log,
    );
  }

  get nodeUid(): string | undefined {
    return this.#nodeUid;
  }

  get registered(): boolean {
    return this.#nodeUid !== undefined;
  }

  start(): void {
    this.#transition = k8sTime();
    this.#status.start();
    this.#lease.start();
  }

  stop(): void {
    this.#status.stop();
    this.#lease.stop();
  }

  /** After a reconnect the cloud may already consider us gone: report at once. */
  cloudConnected(): void {
    this.#lastReported = undefined;
    this.#status.trigger();
    this.#lease.trigger();
  }

  get #nodeResource(): string {
    return buildResource(this.#o.registerNodeNamespace, ResourceType.node, this.#o.nodeName);
  }

  /** Conditions measured now; a changed status moves that condition's lastTransitionTime. */
  #measure(): MeasuredConditions {
    if (this.#o.diskPressure === undefined) return {};
    const status = this.#o.diskPressure();
    if (this.#disk === undefined) this.#disk = { status, since: this.#transition };
    else if (this.#disk.status !== status) this.#disk = { status, since: k8sTime() };
    return { diskPressure: this.#disk };
  }

  async #statusTick(current: StillCurrent): Promise<void> {
    const info = this.#o.hostInfo();
    const measured = this.#measure();
    if (this.#nodeUid === undefined) {
      await this.#ensureRegistered(info, measured, current);
      if (!current() || this.#nodeUid === undefined) return;
    }
    const resource = buildResource(this.#o.registerNodeNamespace, ResourceType.nodePatch, this.#o.nodeName);
    const patch = nodeStatusPatch(info, k8sTime(), this.#transition, measured);
    const fingerprint = withoutTimestamps(patch);
    const last = this.#lastReported;
    const reportEvery = this.#o.reportFrequencyMs ?? 5 * 60_000;
    if (last !== undefined && last.fingerprint === fingerprint && Date.now() - last.at < reportEvery) return;
    const reply = await this.#request(Operation.patch, resource, patch, this.#timeout(this.#o.updateFrequencyMs));
    if (!current()) return;
    const { err } = unwrapReply(reply.content);
    if (err === null) {
      this.#lastReported = { fingerprint, at: Date.now() };
      return;
    }
    if (errorCode(err) === 404) {
      // Someone deleted the Node: register it again on the next tick.
      this.#log.warn({ node: this.#o.nodeName }, 'node no longer exists in the cloud; re-registering');
      this.#nodeUid = undefined;
      this.#leaseObj = undefined;
      return;
    }
    throw new EdgedRequestError(Operation.patch, resource, 'cloud refused the status patch', { code: errorCode(err), err });
  }

  async #ensureRegistered(info: HostInfo, measured: MeasuredConditions, current: StillCurrent): Promise<void> {
    const resource = this.#nodeResource;
    const timeout = this.#timeout(this.#o.updateFrequencyMs);
    const q = await this.#request(Operation.query, resource, null, timeout);
    if (!current()) return;
    const found = unwrapReply(q.content);
    if (found.err === null && found.object !== null) {
      this.#adopt(found.object, 'found');
      return;
    }
    if (errorCode(found.err) !== 404) {
      throw new EdgedRequestError(Operation.query, resource, 'unexpected reply to node query', { code: errorCode(found.err) });
    }
    const node = registrationNode(this.#o.nodeName, info, this.#o.nodeLabels, Date.now(), measured);
    const r = await this.#request(Operation.insert, resource, node, timeout);
    if (!current()) return;
    const ins = unwrapReply(r.content);
    if (ins.err === null && ins.object !== null) {
      this.#adopt(ins.object, 'registered');
      return;
    }
    // 409 AlreadyExists (a race with another registration): the next query finds it.
    throw new EdgedRequestError(Operation.insert, resource, 'node registration refused', { code: errorCode(ins.err), err: ins.err });
  }

  #adopt(node: Record<string, unknown>, how: 'found' | 'registered'): void {
    const md = node['metadata'];
    const uid = typeof md === 'object' && md !== null ? (md as Record<string, unknown>)['uid'] : undefined;
    this.#nodeUid = typeof uid === 'string' ? uid : '';
    this.#log.info({ node: this.#o.nodeName, uid: this.#nodeUid }, how === 'registered' ? 'node registered' : 'node exists in the cloud');
    // The lease needs the Node's uid for its ownerReference; create it now rather than a period later.
    this.#lease.trigger();
  }

  async #leaseTick(current: StillCurrent): Promise<void> {
    const uid = this.#nodeUid;
    if (uid === undefined) {
      this.#log.debug({ node: this.#o.nodeName }, 'lease waits for node registration');
      return;
    }
    const resource = buildResource(LEASE_NAMESPACE, ResourceType.lease, this.#o.nodeName);
    const timeout = this.#timeout(this.#leaseIntervalMs);
    if (this.#leaseObj === undefined) {
      const q = await this.#request(Operation.query, resource, null, timeout);
      if (!current()) return;
      const got = unwrapReply(q.content);
      if (got.err === null && got.object !== null) {
        this.#leaseObj = got.object as Lease;
      } else if (errorCode(got.err) === 404) {
        const lease = newLease(this.#o.nodeName, uid, this.#o.leaseDurationSeconds, k8sMicroTime());
        const r = await this.#request(Operation.insert, resource, lease, timeout);
        if (!current()) return;
        const ins = unwrapReply(r.content);
        if (ins.err !== null || ins.object === null) {
          throw new EdgedRequestError(Operation.insert, resource, 'lease creation refused', { code: errorCode(ins.err) });
        }
        this.#leaseObj = ins.object as Lease;
        return; // just created with renewTime = now
      } else {
        throw new EdgedRequestError(Operation.query, resource, 'unexpected reply to lease query', { code: errorCode(got.err) });
      }
    }
    const r = await this.#request(Operation.update, resource, renewedLease(this.#leaseObj, k8sMicroTime()), timeout);
    if (!current()) return;
    const upd = unwrapReply(r.content);
    if (upd.err === null && upd.object !== null) {
      this.#leaseObj = upd.object as Lease;
      return;
    }
    const code = errorCode(upd.err);
    // Conflict (someone else wrote it) or gone: fetch or create it afresh next time.
    if (code === 409 || code === 404) this.#leaseObj = undefined;
    throw new EdgedRequestError(Operation.update, resource, 'lease renewal refused', { code });
  }

  #timeout(periodMs: number): number {
    return this.#o.requestTimeoutMs ?? Math.max(5000, periodMs);
  }

  async #request(operation: string, resource: string, content: unknown, timeoutMs: number): Promise<Message> {
    const m = newMessage({ source: EdgeModules.edged, group: EdgeGroups.meta, operation, resource, content });
    const reply = await this.#bus.request(META, m, timeoutMs);
    if (reply.route.operation === Operation.error) {
      throw new EdgedRequestError(operation, resource, String(reply.content));
    }
    return { ...reply, content: contentAsObject(reply) };
  }
}

/** The status patch without its heartbeat timestamps: what tells whether anything really changed. */
function withoutTimestamps(patch: string): string {
  return patch.replace(/"(lastHeartbeatTime|lastTransitionTime)":"[^"]*"/g, '"$1":""');
}
