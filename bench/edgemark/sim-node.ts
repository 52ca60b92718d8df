import path from 'node:path';
import { encodeFrame } from '../../src/core/frame.ts';
import type { Logger } from '../../src/core/log.ts';
import { newMessage, newResponse, parseResource, type Message } from '../../src/core/message.ts';
import { ensureEdgeCertificates, type EdgeCerts } from '../../src/edge/edgehub/certificate/bootstrap.ts';
import { dialCloud, type CloudLink } from '../../src/edge/edgehub/ws-client.ts';
import { errorCode, unwrapReply } from '../../src/edge/metamanager/replies.ts';
import type { HostInfo } from '../../src/edge/edged/nodestatus/host-info.ts';
import { k8sMicroTime, k8sTime, newLease, nodeStatusPatch, registrationNode, renewedLease, type Lease } from '../../src/edge/edged/nodestatus/node-object.ts';
import { podRunningPatch } from './pod-status.ts';
import { emptyCounters } from './protocol.ts';

export type SimConfig = {
  /** host:port of CloudHub's WebSocket listener. */
  server: string;
  /** https://host:port of the certificate service. */
  httpServer: string;
  /** `<caHash>.<jwt>` join token. */
  token: string;
  projectId: string;
  certDir: string;
  /** Skip per-node enrolment and use these (one enrolment for the whole fleet). */
  sharedCerts?: EdgeCerts;
  heartbeatSec: number;
  /** How often the status is looked at (KubeEdge's nodeStatusUpdateFrequency, 10 s). */
  statusPeriodMs: number;
  /**
   * How often an unchanged status is sent anyway (kubelet's nodeStatusReportFrequency, 5 min). A real 1.15 edge
   * sends a `nodepatch` only when the status changed, after a reconnect or a failed lease renewal, or at this
   * period; the Lease is the heartbeat. 0 = the old behaviour, a `nodepatch` on every status tick.
   */
  statusReportMs: number;
  leaseDurationSec: number;
  requestTimeoutMs: number;
  /** Redial after a lost link after a uniformly random delay in this range. */
  redialMs: [number, number];
  log: Logger;
};

/** What the worker hears from a node. */
export type SimEvents = {
  /** The link opened; `first` = first connection of this node's life. */
  connected(node: SimNode, at: number, first: boolean): void;
  /** First status patch accepted on the current link (the cloud knows the node is alive). */
  statusAccepted(node: SimNode, at: number): void;
  /** A cloud-initiated insert/update/delete arrived (already acked). */
  cloudWrite(node: SimNode, op: string, resource: string, content: unknown, at: number): void;
};

export type SimCounters = {
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
  keepalives: number;
  connects: number;
  dialFailures: number;
  disconnects: number;
  requestTimeouts: number;
  errorReplies: number;
  rejectedFrames: number;
  cloudWrites: number;
  cloudWritesByOp: Record<string, number>;
  podPatches: number;
  nodePatches: number;
  leaseRenewals: number;
};

const HOST_INFO = (name: string, ip: string): HostInfo => ({
  capacity: { cpu: '2', 'ephemeral-storage': '61255492Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '4030000Ki', pods: '110' },
  allocatable: { cpu: '2', 'ephemeral-storage': '56453061334', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '3927600Ki', pods: '110' },
  addresses: [
    { type: 'InternalIP', address: ip },
    { type: 'Hostname', address: name },
  ],
  daemonEndpoints: { kubeletEndpoint: { Port: 10350 } },
  nodeInfo: {
    machineID: '',
    systemUUID: '',
    bootID: '',
    kernelVersion: '6.1.0',
    osImage: 'edgemark',
    containerRuntimeVersion: 'edgemark://0.1.0',
    kubeletVersion: 'v1.29.5-kubeedge-ts-edgemark',
    kubeProxyVersion: 'v0.0.0-master+$Format:%H$',
    operatingSystem: 'linux',
    architecture: 'amd64',
  },
});

const CLOUD_WRITES = new Set(['insert', 'update', 'delete']);
/** KubeEdge's edge acks the cloud's replies to these, copying the reply's route. */
const ACKED_REPLIES = new Set(['query', 'insert', 'update']);

type Pending = { resolve(m: Message): void; reject(e: Error): void; timer: NodeJS.Timeout; op: string };

/**
 * One simulated edge node speaking KubeEdge's protocol: it enrols for its own certificate, keeps a WebSocket to
 * CloudHub (keepalives every heartbeat), registers its Node, patches its status and renews its Lease, acks every
 * cloud write with "OK" and reports its pods Running without running anything.
 */
export class SimNode {
  readonly name: string;
  readonly counters: SimCounters = emptyCounters();
  enrolMs = 0;
  readonly #c: SimConfig;
  readonly #ev: SimEvents;
  readonly #info: HostInfo;
  readonly #pending = new Map<string, Pending>();
  readonly #timers: NodeJS.Timeout[] = [];
  #certs: EdgeCerts | undefined;
  #link: CloudLink | undefined;
  #linkGen = 0;
  #stopped = false;
  #nodeUid: string | undefined;
  #lease: Lease | undefined;
  #transition = k8sTime();
  #statusAcceptedOnLink = false;
  /** When the cloud last accepted our status; undefined = report at the next tick (new link, failed lease). */
  #statusReportedAt: number | undefined;

  constructor(name: string, index: number, c: SimConfig, ev: SimEvents) {
    this.name = name;
    this.#c = c;
    this.#ev = ev;
    this.#info = HOST_INFO(name, `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`);
  }

  get connected(): boolean {
    return this.#link?.open === true;
  }

  /** Sends what one of the node's own modules would (DeviceTwin's reports); false when the link is down. */
  sendToCloud(m: Message): boolean {
    if (!this.connected) return false;
    this.#send(m);
    return true;
  }

  /** Certificate bootstrap through /ca.crt and /edge.crt with the join token (or the fleet's shared certificate). */
  async enrol(): Promise<void> {
    if (this.#c.sharedCerts !== undefined) {
      this.#certs = this.#c.sharedCerts;
      return;
    }
    const t0 = performance.now();
    const dir = path.join(this.#c.certDir, this.name);
    this.#certs = await ensureEdgeCertificates({
      httpServer: this.#c.httpServer,
      token: this.#c.token,
      nodeName: this.name,
      caFile: path.join(dir, 'rootCA.crt'),
      certFile: path.join(dir, 'server.crt'),
      keyFile: path.join(dir, 'server.key'),
      log: this.#c.log,
      retry: { attempts: 6, baseDelayMs: 500, maxDelayMs: 5000 },
    });
    this.enrolMs = performance.now() - t0;
  }

  /** Dials once; on failure or later loss it keeps redialling until stopped. */
  async connect(): Promise<boolean> {
    const certs = this.#certs;
    if (certs === undefined || this.#stopped) return false;
    const gen = ++this.#linkGen;
    try {
      this.#link = await dialCloud(
        {
          server: this.#c.server,
          projectId: this.#c.projectId,
          nodeName: this.name,
          caPem: certs.caPem,
          certPem: certs.certPem,
          keyPem: certs.keyPem,
          handshakeTimeoutMs: 30_000,
          log: this.#c.log,
        },
        {
          onMessage: (m) => this.#onMessage(m),
          onRejectedFrame: () => this.counters.rejectedFrames++,
          onClose: () => this.#onClose(gen),
        },
      );
    } catch {
      this.counters.dialFailures++;
      this.#scheduleRedial();
      return false;
    }
    this.counters.connects++;
    this.#statusAcceptedOnLink = false;
    this.#statusReportedAt = undefined;
    const first = this.counters.connects === 1;
    this.#ev.connected(this, Date.now(), first);
    this.#keepalive();
    this.#after(this.#c.heartbeatSec * 1000, () => this.#keepalive(), true);
    void this.#statusTick();
    this.#after(this.#jitter(this.#c.statusPeriodMs), () => void this.#statusTick(), true, this.#c.statusPeriodMs);
    this.#leaseLoop(this.#jitter(this.#leaseRenewMs()));
    return true;
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#link?.terminate();
  }

  #leaseRenewMs(): number {
    return (this.#c.leaseDurationSec * 1000) / 4;
  }

  /** Lease renewals as kubelet's lease controller schedules them: every duration/4 plus up to 4 % jitter. */
  #leaseLoop(first: number): void {
    this.#after(
      first,
      () => {
        void this.#leaseTick();
        this.#leaseLoop(this.#leaseRenewMs() * (1 + 0.04 * Math.random()));
      },
      false,
    );
  }

  #jitter(ms: number): number {
    return Math.floor(ms * (0.5 + Math.random()));
  }

  /** Runs `fn` after `first` ms and, if `repeat`, every `every` ms while this link generation lives. */
  #after(first: number, fn: () => void, repeat: boolean, every = first): void {
    const gen = this.#linkGen;
    const t = setTimeout(() => {
      if (gen !== this.#linkGen || !this.connected) return;
      fn();
      if (repeat) {
        const iv = setInterval(() => {
          if (gen !== this.#linkGen || !this.connected) return clearInterval(iv);
          fn();
        }, every);
        this.#timers.push(iv);
      }
    }, first);
    this.#timers.push(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.length = 0;
  }

  #onClose(gen: number): void {
    if (gen !== this.#linkGen) return;
    this.counters.disconnects++;
    this.#clearTimers();
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error('link closed'));
      this.#pending.delete(id);
    }
    this.#scheduleRedial();
  }

  #scheduleRedial(): void {
    if (this.#stopped) return;
    const [lo, hi] = this.#c.redialMs;
    const t = setTimeout(() => void this.connect(), lo + Math.random() * (hi - lo));
    this.#timers.push(t);
  }

  #send(m: Message): void {
    const link = this.#link;
    if (link === undefined || !link.open) return;
    this.counters.framesOut++;
    this.counters.bytesOut += Buffer.byteLength(encodeFrame(m));
    link.send(m).catch(() => undefined);
  }

  #keepalive(): void {
    this.counters.keepalives++;
    this.#send(newMessage({ source: 'websocket', group: 'resource', operation: 'keepalive', resource: 'node', content: 'ping' }));
  }

  #request(operation: string, resource: string, content: unknown): Promise<Message> {
    const m = newMessage({ source: 'edged', group: 'meta', operation, resource, content });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(m.header.msg_id);
        this.counters.requestTimeouts++;
        reject(new Error(`${operation} ${resource}: no reply`));
      }, this.#c.requestTimeoutMs);
      this.#pending.set(m.header.msg_id, { resolve, reject, timer, op: operation });
      this.#send(m);
    });
  }

  #onMessage(m: Message): void {
    this.counters.framesIn++;
    this.counters.bytesIn += Buffer.byteLength(JSON.stringify(m)) + 1;
    const parent = m.header.parent_msg_id;
    const op = m.route.operation ?? '';
    if (parent !== undefined && parent !== '') {
      const p = this.#pending.get(parent);
      if (p === undefined) return;
      this.#pending.delete(parent);
      clearTimeout(p.timer);
      if (ACKED_REPLIES.has(p.op)) this.#send(newResponse(m, 'OK', { source: m.route.source ?? '', group: m.route.group ?? '' }));
      p.resolve(m);
      return;
    }
    if (!CLOUD_WRITES.has(op)) return;
    const resource = m.route.resource ?? '';
    this.counters.cloudWrites++;
    this.counters.cloudWritesByOp[op] = (this.counters.cloudWritesByOp[op] ?? 0) + 1;
    const at = Date.now();
    // Ack first, copying the route, as KubeEdge's metamanager does once the object is stored.
    this.#send(newResponse(m, 'OK', { source: m.route.source ?? '', group: m.route.group ?? '' }));
    this.#ev.cloudWrite(this, op, resource, m.content, at);
    const { namespace, type, name } = parseResource(resource);
    if (type !== 'pod' || op === 'delete') return;
    const pod = (typeof m.content === 'string' ? JSON.parse(m.content) : m.content) as {
      metadata?: { uid?: string; deletionTimestamp?: string };
      spec?: unknown;
      status?: { phase?: string };
    } | null;
    const uid = pod?.metadata?.uid ?? '';
    if (pod?.metadata?.deletionTimestamp !== undefined) {
      // Graceful delete: no containers to stop, so confirm at once as the kubelet does when they are gone.
      void this.#untilAccepted('delete', resource, () => ({ gracePeriodSeconds: 0, preconditions: { uid } }));
      return;
    }
    if (pod?.status?.phase === 'Running') return;
    this.counters.podPatches++;
    void this.#untilAccepted('patch', `${namespace}/podpatch/${name}`, () => podRunningPatch(pod, this.#info.addresses[0]?.address ?? '127.0.0.1'));
  }

  /**
   * A pod status or delete confirmation, sent again every 5 s (up to 5 min) until the cloud accepts it, as the
   * kubelet's status manager does: an error reply (the API server was restarting), a timeout or a lost link is
   * not the end of it. A 404 is: the pod is gone.
   */
  async #untilAccepted(op: string, resource: string, content: () => unknown): Promise<void> {
    for (let attempt = 0; attempt < 60 && !this.#stopped; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 5000));
      try {
        const err = unwrapReply((await this.#request(op, resource, content())).content).err;
        if (err === null || errorCode(err) === 404) return;
        this.counters.errorReplies++;
      } catch {
        /* timeout or no link: counted by #request; try again */
      }
    }
  }

  async #statusTick(): Promise<void> {
    try {
      if (this.#nodeUid === undefined) {
        const res = `default/node/${this.name}`;
        const q = unwrapReply((await this.#request('query', res, null)).content);
        if (q.object !== null && q.err === null) {
          this.#nodeUid = String((q.object['metadata'] as { uid?: string } | undefined)?.uid ?? '');
        } else {
          const ins = unwrapReply((await this.#request('insert', res, registrationNode(this.name, this.#info, {}))).content);
          if (ins.err !== null || ins.object === null) {
            this.counters.errorReplies++;
            return;
          }
          this.#nodeUid = String((ins.object['metadata'] as { uid?: string } | undefined)?.uid ?? '');
        }
        void this.#leaseTick();
      }
      const every = this.#c.statusReportMs;
      // Our status never changes (no real host behind it), so only a new link, a failed lease or the report period sends it.
      if (every > 0 && this.#statusReportedAt !== undefined && Date.now() - this.#statusReportedAt < every) return;
      this.counters.nodePatches++;
      const r = await this.#request('patch', `default/nodepatch/${this.name}`, nodeStatusPatch(this.#info, k8sTime(), this.#transition));
      const u = unwrapReply(r.content);
      if (u.err !== null) {
        this.counters.errorReplies++;
        if (errorCode(u.err) === 404) this.#nodeUid = undefined;
        return;
      }
      this.#statusReportedAt = Date.now();
      if (!this.#statusAcceptedOnLink) {
        this.#statusAcceptedOnLink = true;
        this.#ev.statusAccepted(this, Date.now());
      }
    } catch {
      /* timeouts and lost links are counted; the next tick retries */
    }
  }

  async #leaseTick(): Promise<void> {
    const uid = this.#nodeUid;
    if (uid === undefined) return;
    const res = `kube-node-lease/lease/${this.name}`;
    try {
      if (this.#lease === undefined) {
        const ins = unwrapReply((await this.#request('insert', res, newLease(this.name, uid, this.#c.leaseDurationSec, k8sMicroTime()))).content);
        if (ins.err === null && ins.object !== null) {
          this.#lease = ins.object as Lease;
          return;
        }
        const q = unwrapReply((await this.#request('query', res, null)).content);
        if (q.err === null && q.object !== null) this.#lease = q.object as Lease;
        else this.counters.errorReplies++;
        return;
      }
      this.counters.leaseRenewals++;
      const upd = unwrapReply((await this.#request('update', res, renewedLease(this.#lease, k8sMicroTime()))).content);
      if (upd.err === null && upd.object !== null) this.#lease = upd.object as Lease;
      else {
        this.counters.errorReplies++;
        this.#lease = undefined;
        this.#statusReportedAt = undefined; // the cloud may have marked us Unknown meanwhile: report at once
      }
    } catch {
      /* counted as a timeout; retried next period */
      this.#statusReportedAt = undefined;
    }
  }
}
