import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.ts';
import type { PushMethod } from './types.ts';

export type PushRecord = { deviceName: string; propertyName: string; value: string; type: string; timestamp: number };

/**
 * pushMethod: each reading also goes straight to an MQTT broker or an HTTP endpoint, beside the report to
 * edgecore. One MQTT connection per broker address, kept open and reconnected by the client.
 */
export class Publisher {
  readonly #log: Logger;
  readonly #mqtt = new Map<string, MqttClient>();
  failures = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  async publish(pm: PushMethod, r: PushRecord): Promise<void> {
    const body = JSON.stringify(r);
    try {
      if (pm.mqtt !== undefined && pm.mqtt.address !== '') {
        const c = this.#client(pm.mqtt.address);
        const qos = pm.mqtt.qos === 1 || pm.mqtt.qos === 2 ? pm.mqtt.qos : 0;
        const topic = pm.mqtt.topic !== '' ? pm.mqtt.topic : `devices/${r.deviceName}/${r.propertyName}`;
        await c.publishAsync(topic, body, { qos, retain: pm.mqtt.retained });
      }
      if (pm.http !== undefined && pm.http.hostname !== '') {
        const host = /^https?:\/\//.test(pm.http.hostname) ? pm.http.hostname : `http://${pm.http.hostname}`;
        const url = `${host}:${pm.http.port}${pm.http.requestpath.startsWith('/') ? '' : '/'}${pm.http.requestpath}`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(pm.http.timeout > 0 ? pm.http.timeout : 5000),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
      }
    } catch (err) {
      this.failures++;
      this.#log.warn({ err, device: r.deviceName, property: r.propertyName }, 'push failed');
    }
  }

  #client(address: string): MqttClient {
    let c = this.#mqtt.get(address);
    if (c === undefined) {
      c = mqtt.connect(address, { reconnectPeriod: 2000, connectTimeout: 5000 });
      c.on('error', (err) => this.#log.debug({ err, broker: address }, 'mqtt push client error'));
      this.#mqtt.set(address, c);
    }
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#mqtt.values()].map((c) => c.endAsync(true).catch(() => undefined)));
    this.#mqtt.clear();
  }
}
