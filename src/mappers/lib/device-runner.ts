import type { Logger } from '../../core/log.ts';
import type { PbTwin } from '../../edge/dmi/api/types.ts';
import { formatValue, parseDesired } from './parse.ts';
import type { Publisher } from './publish.ts';
import type { DeviceConnection, Driver, MapperDevice, MapperProperty } from './types.ts';

export type Reporter = (deviceName: string, twins: PbTwin[]) => Promise<void>;

type PropState = { p: MapperProperty; last?: string; lastAt?: number; written?: string; timers: NodeJS.Timeout[] };

/**
 * One device's loops. Each property is read every `collectCycle` and its last reading reported every
 * `reportCycle` (to edgecore when `reportToCloud`, and to its `pushMethod`). A ReadWrite property's desired value
 * is written to the device before the next read until the device takes it; a new desired value is written again.
 */
export class DeviceRunner {
  #device: MapperDevice;
  readonly #driver: Driver;
  readonly #report: Reporter;
  readonly #publisher: Publisher;
  readonly #log: Logger;
  #conn: DeviceConnection | undefined;
  #opening: Promise<DeviceConnection> | undefined;
  #props = new Map<string, PropState>();
  #stopped = false;
  readonly counters = { reads: 0, readErrors: 0, writes: 0, writeErrors: 0, reports: 0, reportErrors: 0 };

  constructor(device: MapperDevice, driver: Driver, report: Reporter, publisher: Publisher, log: Logger) {
    this.#device = device;
    this.#driver = driver;
    this.#report = report;
    this.#publisher = publisher;
    this.#log = log.child({ device: device.name });
  }

  get device(): MapperDevice {
    return this.#device;
  }

  /** The last reading of a property, as reported. */
  value(property: string): string | undefined {
    return this.#props.get(property)?.last;
  }

  start(): void {
    for (const p of this.#device.properties) this.#startProperty(p, undefined);
  }

  /** A changed device: the connection stays when the protocol settings are the same, so device state survives. */
  async update(d: MapperDevice): Promise<void> {
    const reconnect = JSON.stringify(d.protocolConfig) !== JSON.stringify(this.#device.protocolConfig);
    const old = this.#props;
    for (const s of old.values()) for (const t of s.timers) clearInterval(t);
    this.#props = new Map();
    this.#device = d;
    if (reconnect) await this.#closeConn();
    for (const p of d.properties) {
      const prev = old.get(p.name);
      this.#startProperty(p, reconnect || prev?.p.desired !== p.desired ? undefined : prev);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#props.values()) for (const t of s.timers) clearInterval(t);
    this.#props.clear();
    await this.#closeConn();
  }

  #startProperty(p: MapperProperty, prev: PropState | undefined): void {
    const s: PropState = { p, timers: [] };
    if (prev?.last !== undefined) s.last = prev.last;
    if (prev?.written !== undefined) s.written = prev.written;
    this.#props.set(p.name, s);
    let collecting = false;
    const collect = () => {
      if (collecting || this.#stopped) return;
      collecting = true;
      this.#collect(s).finally(() => {
        collecting = false;
      });
    };
    s.timers.push(setInterval(collect, p.collectCycleMs));
    s.timers.push(setInterval(() => void this.#reportOne(s), p.reportCycleMs));
    setImmediate(collect);
  }

  async #connection(): Promise<DeviceConnection> {
    if (this.#conn !== undefined) return this.#conn;
    this.#opening ??= this.#driver.open(this.#device).finally(() => {
      this.#opening = undefined;
    });
    const c = await this.#opening;
    if (this.#stopped) {
      await c.close();
      throw new Error('device stopped');
    }
    this.#conn = c;
    return c;
  }

  async #closeConn(): Promise<void> {
    const c = this.#conn;
    this.#conn = undefined;
    await c?.close().catch(() => undefined);
  }

  async #collect(s: PropState): Promise<void> {
    let conn: DeviceConnection;
    try {
      conn = await this.#connection();
    } catch (err) {
      this.counters.readErrors++;
      this.#log.warn({ err, property: s.p.name }, 'device not reachable');
      return;
    }
    const p = s.p;
    if (p.accessMode === 'ReadWrite' && p.desired !== '' && s.written !== p.desired) {
      const v = parseDesired(p, p.desired);
      if (v === undefined) {
        this.counters.writeErrors++;
        this.#log.warn({ property: p.name, desired: p.desired }, 'desired value refused: not valid for the property type or range');
        s.written = p.desired;
      } else {
        try {
          await conn.write(p, String(v));
          this.counters.writes++;
          s.written = p.desired;
          this.#log.info({ property: p.name, value: String(v) }, 'desired value written');
        } catch (err) {
          this.counters.writeErrors++;
          this.#log.warn({ err, property: p.name }, 'desired value not written; retrying next cycle');
          if (isConnectionError(err)) await this.#closeConn();
        }
      }
    }
    try {
      const v = await conn.read(p);
      s.last = formatValue(p, v);
      s.lastAt = Date.now();
      this.counters.reads++;
    } catch (err) {
      this.counters.readErrors++;
      this.#log.warn({ err, property: p.name }, 'read failed');
      if (isConnectionError(err)) await this.#closeConn();
    }
  }

  async #reportOne(s: PropState): Promise<void> {
    if (s.last === undefined || this.#stopped) return;
    const p = s.p;
    const timestamp = s.lastAt ?? Date.now();
    if (p.pushMethod !== undefined) {
      void this.#publisher.publish(p.pushMethod, { deviceName: this.#device.name, propertyName: p.name, value: s.last, type: p.type, timestamp });
    }
    if (!p.reportToCloud) return;
    const twin: PbTwin = {
      propertyName: p.name,
      reported: { value: s.last, metadata: { timestamp: String(timestamp), type: p.type } },
      observedDesired: { value: p.desired, metadata: {} },
    };
    try {
      await this.#report(this.#device.name, [twin]);
      this.counters.reports++;
    } catch (err) {
      this.counters.reportErrors++;
      this.#log.debug({ err }, 'report to edgecore failed');
    }
  }
}

/** A broken link (socket errors, or a Modbus library's Offline/Timeout) is worth a reconnect; a refused value is not. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; err?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.err === 'string' ? e.err : '';
  return /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)$|^(Offline|Timeout|OutOfSync)$/i.test(code);
}
