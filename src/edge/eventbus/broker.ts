import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../../core/log.ts';
import { EventBusListenError } from './errors.ts';

export type EmbeddedBrokerOptions = {
  /** `mqttServerInternal`, e.g. tcp://127.0.0.1:1884. */
  url: string;
  /** `mqttSessionQueueSize`: messages kept per client while it cannot take them. */
  sessionQueueSize: number;
  log: Logger;
  /** Every publish by a client (not by EventBus itself). */
  onPublish: (topic: string, payload: Buffer) => void;
};

/** `tcp://host:port` (or `mqtt://`) as a listen address; anything else the embedded broker cannot serve. */
export function listenAddress(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new EventBusListenError(`modules.eventBus.mqttServerInternal ${url} is not a URL`, { url }, err);
  }
  if (u.protocol !== 'tcp:' && u.protocol !== 'mqtt:') {
    throw new EventBusListenError(`modules.eventBus.mqttServerInternal ${url}: the embedded broker serves tcp:// only`, { url });
  }
  const port = u.port === '' ? 1883 : Number(u.port);
  return { host: u.hostname.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

/** The embedded MQTT broker (aedes) of mqttMode 0 and 1. */
export class EmbeddedBroker {
  readonly #o: EmbeddedBrokerOptions;
  #aedes: Aedes | undefined;
  #server: Server | undefined;

  constructor(o: EmbeddedBrokerOptions) {
    this.#o = o;
  }

  async start(): Promise<{ host: string; port: number }> {
    const addr = listenAddress(this.#o.url);
    const aedes = await Aedes.createBroker({ queueLimit: this.#o.sessionQueueSize });
    aedes.on('publish', (packet, client) => {
      // client is null for what the broker itself publishes: EventBus's own messages and $SYS
      if (client === null || client === undefined) return;
      this.#o.onPublish(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
    });
    aedes.on('clientError', (client, err) => this.#o.log.debug({ err, client: client.id }, 'mqtt client error'));
    const server = createServer(aedes.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      aedes.close();
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is in use by another process' : code === 'EACCES' ? 'needs more privileges' : 'cannot be bound';
      throw new EventBusListenError(
        `MQTT port ${addr.host}:${addr.port} (modules.eventBus.mqttServerInternal) ${why}: stop what listens there or choose another mqttServerInternal`,
        { url: this.#o.url, code },
        err,
      );
    }
    server.on('error', (err) => this.#o.log.error({ err }, 'embedded MQTT broker listener error'));
    this.#aedes = aedes;
    this.#server = server;
    const bound = server.address();
    return { host: addr.host, port: typeof bound === 'object' && bound !== null ? bound.port : addr.port };
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): void {
    this.#aedes?.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) => {
      if (err !== undefined && err !== null) this.#o.log.warn({ err, topic }, 'embedded broker publish failed');
    });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = undefined;
    this.#aedes = undefined;
    if (aedes !== undefined) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
