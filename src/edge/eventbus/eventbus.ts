import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { newMessage, Operation, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeGroups, EdgeModules } from '../common/modules.ts';
// Type-only: each broker's library (aedes, mqtt) is loaded by the mode that uses it, so the default mode 2
// never holds aedes in memory and mode 0 never holds the mqtt client.
import type { EmbeddedBroker } from './broker.ts';
import type { ExternalBroker } from './external.ts';
import { SubTopicStore } from './subtopics.ts';
import { encodeTopic, isTwinTopic, isValidFilter, isValidTopic, SUBSCRIBED_TOPICS, topicMatches } from './topics.ts';

/** KubeEdge's mqttMode: 0 embedded broker only, 1 both, 2 external broker only. */
export type MqttMode = 0 | 1 | 2;

export type EventBusOptions = {
  enable?: boolean;
  nodeName: string;
  /** `database.dataSource`: the `sub_topics` table lives beside MetaManager's. */
  dataSource: string;
  mqttMode: MqttMode;
  mqttServerInternal: string;
  mqttServerExternal: string;
  mqttQOS: 0 | 1 | 2;
  mqttRetain: boolean;
  mqttSessionQueueSize: number;
  mqttSubClientID: string;
  mqttPubClientID: string;
  mqttUsername: string;
  mqttPassword: string;
  tls: { enable: boolean; caFile: string; certFile: string; keyFile: string };
  externalBackoff?: { initialMs: number; maxMs: number };
};

export type EventBusStats = {
  toTwin: number;
  toCloud: number;
  published: number;
  rejected: number;
  external: { connected: boolean; connects: number; failures: number; published: number; dropped: number } | undefined;
};

/**
 * EventBus (`eventbus`, group `bus`): the edge's MQTT side. Device topics go to DeviceTwin, other subscribed
 * topics up to the cloud as `user` messages; what DeviceTwin or the cloud publishes goes out on the broker(s).
 */
export class EventBus implements Module {
  readonly name = EdgeModules.eventBus;
  readonly group = EdgeGroups.bus;
  readonly enabled: boolean;
  readonly #o: EventBusOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #store: SubTopicStore | undefined;
  #embedded: EmbeddedBroker | undefined;
  #external: ExternalBroker | undefined;
  /** Filters the embedded broker forwards (KubeEdge's topic tree): fixed ones plus sub_topics. */
  readonly #filters = new Set<string>(SUBSCRIBED_TOPICS);
  #internalAddress: { host: string; port: number } | undefined;
  readonly #stats = { toTwin: 0, toCloud: 0, published: 0, rejected: 0 };

  constructor(o: EventBusOptions) {
    this.#o = o;
    this.enabled = o.enable ?? true;
  }

  /** Where the embedded broker listens (mqttMode 0 and 1), once started. */
  get internalAddress(): { host: string; port: number } | undefined {
    return this.#internalAddress;
  }

  get externalConnected(): boolean {
    return this.#external?.connected ?? false;
  }

  stats(): EventBusStats {
    return { ...this.#stats, external: this.#external?.stats() };
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    const o = this.#o;
    this.#store = new SubTopicStore(o.dataSource);
    for (const t of this.#store.all()) this.#filters.add(t);
    if (o.mqttMode <= 1) {
      const { EmbeddedBroker } = await import('./broker.ts');
      const broker = new EmbeddedBroker({
        url: o.mqttServerInternal,
        sessionQueueSize: o.mqttSessionQueueSize,
        log: ctx.log,
        onPublish: (topic, payload) => {
          for (const f of this.#filters) {
            if (topicMatches(f, topic)) {
              this.#dispatch(topic, payload);
              return;
            }
          }
        },
      });
      try {
        this.#internalAddress = await broker.start();
      } catch (err) {
        this.#store.close();
        this.#store = undefined;
        throw err;
      }
      this.#embedded = broker;
      ctx.log.info({ url: o.mqttServerInternal, port: this.#internalAddress.port }, 'embedded MQTT broker listening');
    }
    if (o.mqttMode >= 1) {
      const { ExternalBroker } = await import('./external.ts');
      this.#external = new ExternalBroker({
        url: o.mqttServerExternal,
        nodeName: o.nodeName,
        subClientId: o.mqttSubClientID,
        pubClientId: o.mqttPubClientID,
        username: o.mqttUsername,
        password: o.mqttPassword,
        tls: o.tls,
        log: ctx.log,
        filters: () => [...this.#filters],
        onMessage: (topic, payload) => this.#dispatch(topic, payload),
        ...(o.externalBackoff !== undefined ? { backoff: o.externalBackoff } : {}),
      });
      try {
        this.#external.start();
      } catch (err) {
        // not started means not stopped by the runtime: release what this start already holds
        this.#external = undefined;
        await this.stop();
        throw err;
      }
    }
    ctx.bus.register(this.name, this.group, (m) => this.#onBus(m));
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
    await this.#external?.stop();
    await this.#embedded?.stop();
    this.#store?.close();
    this.#external = undefined;
    this.#embedded = undefined;
    this.#store = undefined;
  }

  /** handler.go: device and node topics to the twin group (topic base64url in the resource), the rest to the hub. */
  #dispatch(topic: string, payload: Buffer): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    const content = payload.toString('utf8');
    if (isTwinTopic(topic)) {
      this.#stats.toTwin++;
      bus.sendToGroup(
        EdgeGroups.twin,
        newMessage({ source: EdgeGroups.bus, group: EdgeGroups.user, operation: Operation.response, resource: encodeTopic(topic), content }),
      );
      return;
    }
    this.#stats.toCloud++;
    bus.sendToGroup(EdgeGroups.hub, newMessage({ source: EdgeGroups.bus, group: EdgeGroups.user, operation: Operation.upload, resource: topic, content }));
  }

  #onBus(m: Message): void {
    const op = m.route.operation ?? '';
    const resource = m.route.resource ?? '';
    if (op === Operation.connect) return;
    switch (op) {
      case Operation.subscribe:
        this.#subscribe(resource);
        return;
      case Operation.unsubscribe:
        this.#unsubscribe(resource);
        return;
      case Operation.publish: {
        const payload = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
        this.publish(resource, Buffer.from(payload, 'utf8'));
        return;
      }
      case Operation.message: {
        // the router's form: content {message: {topic, ...}}, the whole message object is the payload
        const body = m.content as { message?: { topic?: unknown } } | null;
        const msg = typeof body === 'object' && body !== null ? body.message : undefined;
        if (typeof msg !== 'object' || msg === null || typeof msg.topic !== 'string') {
          this.#reject(m, 'message without content.message.topic');
          return;
        }
        this.publish(msg.topic, Buffer.from(JSON.stringify(msg), 'utf8'));
        return;
      }
      case 'get_result':
        if (resource !== 'auth_info') return;
        this.publish(`$hw/events/node/${this.#o.nodeName}/authInfo/get/result`, Buffer.from(JSON.stringify(m.content), 'utf8'));
        return;
      default:
        this.#reject(m, `operation ${op} not handled by eventbus`);
    }
  }

  /** eventbus.go publish: to the external broker in modes 1 and 2, to the embedded one in 0 and 1. */
  publish(topic: string, payload: Buffer): void {
    if (!isValidTopic(topic)) {
      this.#stats.rejected++;
      this.#log?.warn({ topic }, 'publish to an invalid MQTT topic refused');
      return;
    }
    this.#stats.published++;
    this.#external?.publish(topic, payload);
    this.#embedded?.publish(topic, payload, this.#o.mqttQOS, this.#o.mqttRetain);
  }

  #subscribe(filter: string): void {
    if (!isValidFilter(filter)) {
      this.#stats.rejected++;
      this.#log?.warn({ filter }, 'subscribe to an invalid MQTT filter refused');
      return;
    }
    this.#filters.add(filter);
    this.#external?.subscribe(filter);
    try {
      this.#store?.add(filter);
    } catch (err) {
      this.#log?.error({ err, filter }, 'cannot persist subscribed topic');
    }
    this.#log?.info({ filter }, 'subscribed for the cloud');
  }

  #unsubscribe(filter: string): void {
    if (!SUBSCRIBED_TOPICS.includes(filter)) this.#filters.delete(filter);
    this.#external?.unsubscribe(filter);
    try {
      this.#store?.remove(filter);
    } catch (err) {
      this.#log?.error({ err, filter }, 'cannot remove subscribed topic');
    }
  }

  #reject(m: Message, why: string): void {
    this.#stats.rejected++;
    this.#log?.warn({ op: m.route.operation, resource: m.route.resource, source: m.route.source }, `eventbus message rejected: ${why}`);
  }
}
