import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.ts';
import { Backoff } from '../edgehub/backoff.ts';
import { EventBusTlsError } from './errors.ts';

export type ExternalBrokerOptions = {
  /** `mqttServerExternal`, e.g. tcp://127.0.0.1:1883. */
  url: string;
  nodeName: string;
  subClientId: string;
  pubClientId: string;
  username: string;
  password: string;
  tls: { enable: boolean; caFile: string; certFile: string; keyFile: string };
  log: Logger;
  /** Filters to (re)subscribe on every connect: the fixed ones and those the cloud asked for. */
  filters: () => string[];
  onMessage: (topic: string, payload: Buffer) => void;
  backoff?: { initialMs: number; maxMs: number };
};

export type ExternalBrokerStats = { connected: boolean; connects: number; failures: number; published: number; dropped: number };

/**
 * KubeEdge names its clients `hub-client-sub-<first 10 digits of the ms clock>` when none is configured. We put the
 * node name in too: two edges sharing one broker and started in the same second would otherwise take each other's
 * session over and over.
 */
function defaultClientId(kind: 'sub' | 'pub', node: string): string {
  return `hub-client-${kind}-${node}-${String(Date.now()).slice(0, 10)}`;
}

/**
 * The two clients KubeEdge keeps to an external broker (mosquitto): one subscribes, one publishes. Each reconnects
 * on its own with jittered exponential backoff, so a broker that is down or restarts never stops edgecore.
 */
export class ExternalBroker {
  readonly #o: ExternalBrokerOptions;
  #sub: MqttClient | undefined;
  #pub: MqttClient | undefined;
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stats: ExternalBrokerStats = { connected: false, connects: 0, failures: 0, published: 0, dropped: 0 };

  constructor(o: ExternalBrokerOptions) {
    this.#o = o;
  }

  start(): void {
    this.#sub = this.#client(this.#o.subClientId || defaultClientId('sub', this.#o.nodeName), (c) => this.#onSubConnect(c));
    this.#sub.on('message', (topic, payload) => this.#o.onMessage(topic, payload));
    this.#pub = this.#client(this.#o.pubClientId || defaultClientId('pub', this.#o.nodeName), () => {});
  }

  get connected(): boolean {
    return (this.#sub?.connected ?? false) && (this.#pub?.connected ?? false);
  }

  stats(): ExternalBrokerStats {
    return { ...this.#stats, connected: this.connected };
  }

  /** KubeEdge publishes to the external broker with QoS 1, not retained, whatever mqttQOS says (that is the embedded broker's). */
  publish(topic: string, payload: Buffer): void {
    const pub = this.#pub;
    if (pub === undefined || !pub.connected) {
      this.#stats.dropped++;
      this.#o.log.warn({ topic, url: this.#o.url }, 'external MQTT broker not connected; message not published');
      return;
    }
    pub.publish(topic, payload, { qos: 1, retain: false }, (err) => {
      if (err !== undefined) {
        this.#stats.dropped++;
        this.#o.log.warn({ err, topic }, 'publish to the external MQTT broker failed');
      } else this.#stats.published++;
    });
  }

  subscribe(filter: string): void {
    this.#sub?.subscribe(filter, { qos: 1 }, (err) => {
      if (err) this.#o.log.warn({ err, filter }, 'subscribe on the external MQTT broker failed');
    });
  }

  unsubscribe(filter: string): void {
    this.#sub?.unsubscribe(filter, (err) => {
      if (err) this.#o.log.warn({ err, filter }, 'unsubscribe on the external MQTT broker failed');
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([this.#sub, this.#pub].map((c) => c?.endAsync(true).catch(() => undefined)));
  }

  #options(clientId: string): IClientOptions {
    const o = this.#o;
    // writeCache false: otherwise mqtt-packet keeps a 2-byte Buffer for each of the 65536 packet ids and lengths
    // (6.8 MB of heap, most of edgecore's idle heap) to save one tiny allocation per packet.
    const base: IClientOptions = { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 30, writeCache: false };
    if (o.username !== '') base.username = o.username;
    if (o.username !== '' && o.password !== '') base.password = o.password;
    if (o.tls.enable) {
      const read = (key: string, file: string): Buffer => {
        try {
          return readFileSync(file);
        } catch (err) {
          throw new EventBusTlsError(`modules.eventBus.eventBusTLS.${key} ${file} cannot be read`, { file }, err);
        }
      };
      base.ca = read('tlsMqttCAFile', o.tls.caFile);
      base.cert = read('tlsMqttCertFile', o.tls.certFile);
      base.key = read('tlsMqttPrivateKeyFile', o.tls.keyFile);
      base.rejectUnauthorized = true;
    } else {
      // as KubeEdge: an ssl:// broker without eventBusTLS is not verified
      base.rejectUnauthorized = false;
    }
    return base;
  }

  #client(clientId: string, onConnect: (c: MqttClient) => void): MqttClient {
    const backoff = new Backoff(this.#o.backoff ?? { initialMs: 500, maxMs: 30_000 });
    const c = mqtt.connect(this.#o.url, this.#options(clientId));
    c.on('connect', () => {
      backoff.reset();
      this.#stats.connects++;
      this.#o.log.info({ url: this.#o.url, clientId }, 'connected to the external MQTT broker');
      onConnect(c);
    });
    c.on('error', (err) => {
      this.#stats.failures++;
      this.#o.log.warn({ err, url: this.#o.url, clientId }, 'external MQTT broker error');
    });
    c.on('close', () => {
      if (this.#stopped) return;
      const delay = backoff.next();
      this.#o.log.info({ url: this.#o.url, clientId, delayMs: delay }, 'external MQTT broker link down; reconnecting after backoff');
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (!this.#stopped) c.reconnect();
      }, delay);
      this.#timers.add(t);
    });
    return c;
  }

  #onSubConnect(c: MqttClient): void {
    for (const f of this.#o.filters()) {
      c.subscribe(f, { qos: 1 }, (err) => {
        if (err) this.#o.log.warn({ err, filter: f }, 'subscribe on the external MQTT broker failed');
      });
    }
  }
}
