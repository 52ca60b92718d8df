import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '../../core/bus.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { newErrorResponse, newMessage, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { edgeMetrics } from '../../metrics/edge.ts';
import { messageLabels } from '../../metrics/labels.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { FrameRejectReason } from '../../core/frame.ts';
import { dispatchInbound } from './inbound.ts';
import { dialCloud, type CloudLink } from './ws-client.ts';

export type TlsMaterial = { caPem: string; certPem: string; keyPem: string };

export type EdgeHubOptions = {
  server: string;
  projectId: string;
  nodeName: string;
  heartbeatSec: number;
  handshakeTimeoutSec: number;
  /** Called before every dial: the certificate bootstrap/rotation lives behind it. */
  tls: () => Promise<TlsMaterial>;
  backoff?: BackoffOptions;
  maxMessageBytes?: number;
};

export type EdgeHubStats = {
  connected: boolean;
  connects: number;
  disconnects: number;
  dialFailures: number;
  keepalivesSent: number;
  messagesIn: number;
  messagesOut: number;
  /** Outbound messages refused because the link was down or the write failed. */
  outboundRefused: number;
  rejectedFrames: Record<FrameRejectReason, number>;
  lastError: string;
};

/** Groups told about link changes, as in docs/bus-contract.md. */
const CONNECTION_GROUPS = [EdgeGroups.meta, EdgeGroups.edged, EdgeGroups.twin, EdgeGroups.bus] as const;
/** A link that lived this long was healthy: the next failure starts the backoff from the beginning. */
const HEALTHY_LINK_MS = 60_000;

/**
 * EdgeHub (`websocket`, group `hub`): keeps one link to CloudHub, redialling with jittered backoff after any
 * failure, and moves messages between that link and the edge bus.
 */
export class EdgeHub implements Module {
  readonly name = EdgeModules.edgeHub;
  readonly group = EdgeGroups.hub;
  readonly enabled = true;
  readonly #o: EdgeHubOptions;
  readonly #backoff: Backoff;
  readonly #abort = new AbortController();
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #link: CloudLink | undefined;
  #loop: Promise<void> | undefined;
  readonly #stats: EdgeHubStats = {
    connected: false,
    connects: 0,
    disconnects: 0,
    dialFailures: 0,
    keepalivesSent: 0,
    messagesIn: 0,
    messagesOut: 0,
    outboundRefused: 0,
    rejectedFrames: { oversize: 0, not_json: 0, invalid_message: 0 },
    lastError: '',
  };

  constructor(o: EdgeHubOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.backoff ?? DEFAULT_BACKOFF);
  }

  /** Resolves at once: edgecore must come up (and serve from its local store) while the cloud is unreachable. */
  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    ctx.bus.register(this.name, this.group, (msg) => this.#onOutbound(msg));
    ctx.signal.addEventListener('abort', () => this.#abort.abort(), { once: true });
    this.#loop = this.#run(ctx.bus, ctx.log);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#link?.close('edgehub stopping');
    this.#link?.terminate();
    await this.#loop;
    this.#bus?.unregister(this.name);
  }

  isConnected(): boolean {
    return this.#link?.open ?? false;
  }

  stats(): EdgeHubStats {
    return { ...structuredClone(this.#stats), connected: this.isConnected() };
  }

  async #run(bus: Bus, log: Logger): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const lived = await this.#connectOnce(bus, log);
      if (signal.aborted) break;
      if (lived > HEALTHY_LINK_MS) this.#backoff.reset();
      const delay = this.#backoff.next();
      log.info({ delayMs: delay, attempt: this.#backoff.attempt }, 'redialling the cloud after backoff');
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        break;
      }
    }
  }

  /** One dial and, if it works, the life of that link. Returns how long the link lived (0 if it never opened). */
  async #connectOnce(bus: Bus, log: Logger): Promise<number> {
    let closed!: () => void;
    const done = new Promise<void>((resolve) => {
      closed = resolve;
    });
    let link: CloudLink;
    try {
      const tls = await this.#o.tls();
      link = await dialCloud(
        {
          server: this.#o.server,
          projectId: this.#o.projectId,
          nodeName: this.#o.nodeName,
          ...tls,
          handshakeTimeoutMs: this.#o.handshakeTimeoutSec * 1000,
          ...(this.#o.maxMessageBytes !== undefined ? { maxMessageBytes: this.#o.maxMessageBytes } : {}),
          log,
          signal: this.#abort.signal,
        },
        {
          onMessage: (msg) => this.#onInbound(bus, log, msg),
          onRejectedFrame: (reason, detail) => {
            this.#stats.rejectedFrames[reason]++;
            log.warn({ reason, detail }, 'frame from cloud dropped');
          },
          onClose: (code, reason) => {
            log.warn({ code, reason }, 'cloud link closed');
            closed();
          },
        },
      );
    } catch (err) {
      this.#stats.dialFailures++;
      this.#stats.lastError = describeError(err);
      log.warn({ err, server: this.#o.server }, 'cannot connect to the cloud');
      return 0;
    }
    if (this.#abort.signal.aborted) {
      link.terminate();
      return 0;
    }
    this.#link = link;
    this.#stats.connects++;
    edgeMetrics.connected.set(1);
    log.info({ server: this.#o.server, node: this.#o.nodeName }, 'connected to the cloud');
    this.#broadcast(bus, 'cloud_connected');
    const beat = (): void => {
      if (!link.probe()) return;
      this.#stats.keepalivesSent++;
      link.send(newMessage({ source: this.name, group: 'resource', operation: 'keepalive', resource: 'node', content: 'ping' })).catch((err: unknown) => {
        this.#stats.lastError = describeError(err);
      });
    };
    beat();
    const timer = setInterval(beat, this.#o.heartbeatSec * 1000);
    await done;
    clearInterval(timer);
    this.#link = undefined;
    this.#stats.disconnects++;
    edgeMetrics.connected.set(0);
    this.#broadcast(bus, 'cloud_disconnected');
    return Date.now() - link.openedAt;
  }

  #broadcast(bus: Bus, content: 'cloud_connected' | 'cloud_disconnected'): void {
    for (const group of CONNECTION_GROUPS) {
      bus.sendToGroup(group, newMessage({ source: EdgeModules.edgeHub, group, operation: 'connect', resource: 'node/connection', content }));
    }
  }

  #onInbound(bus: Bus, log: Logger, msg: Message): void {
    this.#stats.messagesIn++;
    edgeMetrics.messagesIn.inc(messageLabels(msg));
    const route = dispatchInbound(bus, msg, log);
    if (route === 'dropped') log.debug({ resource: msg.route.resource, operation: msg.route.operation }, 'cloud message not delivered');
  }

  #onOutbound(msg: Message): void {
    const link = this.#link;
    if (link === undefined || !link.open) {
      this.#refuse(msg, 'cloud not connected');
      return;
    }
    link.send(msg).then(
      () => {
        this.#stats.messagesOut++;
        edgeMetrics.messagesOut.inc(messageLabels(msg));
      },
      (err: unknown) => {
        this.#stats.lastError = describeError(err);
        this.#refuse(msg, 'cloud not connected');
      },
    );
  }

  /** Nobody waiting on a message must hang until their timeout just because the link is down. */
  #refuse(msg: Message, text: string): void {
    this.#stats.outboundRefused++;
    const answered = this.#bus?.respond(newErrorResponse(msg, text, EdgeModules.edgeHub)) ?? false;
    if (!answered) {
      this.#log?.debug({ resource: msg.route.resource, operation: msg.route.operation }, 'cloud not connected, message dropped');
    }
  }
}
