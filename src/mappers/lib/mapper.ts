/**
 * A mapper: registers with edgecore over DMI, serves DeviceMapperService on its own unix socket, and runs one
 * DeviceRunner per device it is given. When edgecore goes away (its socket answers no more), the mapper keeps
 * its devices running and registers again once edgecore is back, taking the device list edgecore answers with.
 */
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../core/log.ts';
import { call, deviceMapperService, dmiClient } from '../../edge/dmi/api/grpc.ts';
import type { MapperRegisterResponse, PbDevice, PbDeviceModel, PbTwin } from '../../edge/dmi/api/types.ts';
import { DeviceRunner } from './device-runner.ts';
import { MapperError, requestError } from './errors.ts';
import { toMapperDevice } from './parse.ts';
import { Publisher } from './publish.ts';
import type { Driver } from './types.ts';

export type MapperOptions = {
  driver: Driver;
  name: string;
  version: string;
  /** edgecore's DMI socket (modules.deviceTwin.dmiSockPath). */
  edgecoreSock: string;
  /** This mapper's own socket, handed to edgecore as its address. */
  sockPath: string;
  log: Logger;
  registerRetryMs?: number;
};

export const DMI_API_VERSION = 'v1beta1';

export class Mapper {
  readonly #o: MapperOptions;
  readonly #log: Logger;
  readonly #models = new Map<string, PbDeviceModel>();
  readonly #devices = new Map<string, DeviceRunner>();
  readonly #raw = new Map<string, PbDevice>();
  readonly #publisher: Publisher;
  #server: grpc.Server | undefined;
  #edgecore: grpc.Client | undefined;
  #registered = false;
  #registering = false;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: MapperOptions) {
    this.#o = o;
    this.#log = o.log;
    this.#publisher = new Publisher(o.log);
  }

  get registered(): boolean {
    return this.#registered;
  }

  runner(name: string): DeviceRunner | undefined {
    return this.#devices.get(name);
  }

  deviceNames(): string[] {
    return [...this.#devices.keys()];
  }

  async start(): Promise<void> {
    this.#server = await serve(path.resolve(this.#o.sockPath), this.#handlers());
    this.#edgecore = dmiClient('DeviceManagerService', this.#o.edgecoreSock);
    this.#log.info({ socket: this.#o.sockPath, edgecore: this.#o.edgecoreSock, protocol: this.#o.driver.protocol }, 'mapper serving');
    this.#scheduleRegister(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await Promise.all([...this.#devices.values()].map((r) => r.stop()));
    this.#devices.clear();
    await this.#publisher.close();
    this.#edgecore?.close();
    const s = this.#server;
    if (s !== undefined) await new Promise<void>((r) => s.tryShutdown(() => r()));
    rmSync(path.resolve(this.#o.sockPath), { force: true });
  }

  /** One registration at a time; a failed one tries again after registerRetryMs until edgecore answers. */
  #scheduleRegister(delayMs: number): void {
    if (this.#stopped || this.#registering || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#registering = true;
      void this.#register().finally(() => {
        this.#registering = false;
        if (!this.#registered) this.#scheduleRegister(this.#o.registerRetryMs ?? 2000);
      });
    }, delayMs);
  }

  async #register(): Promise<void> {
    const c = this.#edgecore;
    if (c === undefined) return;
    try {
      const res = await call<MapperRegisterResponse>(c, 'MapperRegister', {
        withData: true,
        mapper: {
          name: this.#o.name,
          version: this.#o.version,
          api_version: DMI_API_VERSION,
          protocol: this.#o.driver.protocol,
          address: Buffer.from(path.resolve(this.#o.sockPath)),
          state: 'OK',
        },
      });
      this.#registered = true;
      this.#log.info({ devices: res.deviceList.map((d) => d.name) }, 'registered with edgecore');
      for (const m of res.modelList) this.#models.set(m.name, m);
      const given = new Set<string>();
      for (const d of res.deviceList) {
        given.add(d.name);
        await this.#upsert(d).catch((err: unknown) => this.#log.warn({ err, device: d.name }, 'device from edgecore not taken'));
      }
      // edgecore's list is the truth: a device it no longer names was removed while we were apart.
      for (const name of [...this.#devices.keys()]) if (!given.has(name)) await this.#remove(name);
    } catch (err) {
      this.#registered = false;
      this.#log.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code } }, 'edgecore not reachable over DMI; retrying');
    }
  }

  /** Reports go straight to edgecore; one that fails because edgecore is away triggers a new registration. */
  #reporter = async (deviceName: string, twins: PbTwin[]): Promise<void> => {
    const c = this.#edgecore;
    if (c === undefined) return;
    try {
      await call(c, 'ReportDeviceStatus', { deviceName, reportedDevice: { twins } }, 3000);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) {
        this.#registered = false;
        this.#scheduleRegister(this.#o.registerRetryMs ?? 2000);
      }
      throw err;
    }
  };

  async #upsert(d: PbDevice): Promise<void> {
    if (d.name === '') throw requestError(grpc.status.INVALID_ARGUMENT, 'device without a name');
    const protocol = d.spec?.protocol?.protocolName ?? '';
    if (protocol !== this.#o.driver.protocol) {
      throw requestError(grpc.status.INVALID_ARGUMENT, `device ${d.name} speaks ${protocol || 'no protocol'}, this mapper ${this.#o.driver.protocol}`);
    }
    const md = toMapperDevice(d, this.#models.get(d.spec?.deviceModelReference ?? ''));
    this.#raw.set(d.name, d);
    const existing = this.#devices.get(d.name);
    if (existing !== undefined) {
      await existing.update(md);
      this.#log.info({ device: d.name }, 'device updated');
      return;
    }
    const r = new DeviceRunner(md, this.#o.driver, this.#reporter, this.#publisher, this.#log);
    this.#devices.set(d.name, r);
    r.start();
    this.#log.info({ device: d.name, properties: md.properties.map((p) => p.name) }, 'device registered');
  }

  async #remove(name: string): Promise<void> {
    const r = this.#devices.get(name);
    this.#devices.delete(name);
    this.#raw.delete(name);
    await r?.stop();
    if (r !== undefined) this.#log.info({ device: name }, 'device removed');
  }

  #handlers(): grpc.UntypedServiceImplementation {
    const unary =
      <Req, Res>(f: (req: Req) => Promise<Res> | Res) =>
      (c: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
        Promise.resolve()
          .then(() => f(c.request))
          .then(
            (r) => cb(null, r),
            (err: unknown) => {
              const e = err instanceof Error ? err : new Error(String(err));
              const code =
                e instanceof MapperError && typeof e.context['grpcCode'] === 'number' ? (e.context['grpcCode'] as grpc.status) : grpc.status.INTERNAL;
              cb(Object.assign(e, { code, details: e.message, metadata: new grpc.Metadata() }) as grpc.ServiceError);
            },
          );
      };
    return {
      RegisterDevice: unary(async (req: { device?: PbDevice | null }) => {
        if (!req.device) throw requestError(grpc.status.INVALID_ARGUMENT, 'RegisterDevice without device');
        await this.#upsert(req.device);
        return { deviceName: req.device.name };
      }),
      UpdateDevice: unary(async (req: { device?: PbDevice | null }) => {
        if (!req.device) throw requestError(grpc.status.INVALID_ARGUMENT, 'UpdateDevice without device');
        await this.#upsert(req.device);
        return {};
      }),
      RemoveDevice: unary(async (req: { deviceName: string }) => {
        await this.#remove(req.deviceName);
        return {};
      }),
      CreateDeviceModel: unary((req: { model?: PbDeviceModel | null }) => {
        if (!req.model) throw requestError(grpc.status.INVALID_ARGUMENT, 'CreateDeviceModel without model');
        this.#models.set(req.model.name, req.model);
        return { deviceModelName: req.model.name };
      }),
      UpdateDeviceModel: unary((req: { model?: PbDeviceModel | null }) => {
        if (!req.model) throw requestError(grpc.status.INVALID_ARGUMENT, 'UpdateDeviceModel without model');
        this.#models.set(req.model.name, req.model);
        return {};
      }),
      RemoveDeviceModel: unary((req: { modelName: string }) => {
        this.#models.delete(req.modelName);
        return {};
      }),
      GetDevice: unary((req: { deviceName: string }) => {
        const raw = this.#raw.get(req.deviceName);
        const r = this.#devices.get(req.deviceName);
        if (raw === undefined || r === undefined) throw requestError(grpc.status.NOT_FOUND, `no device ${req.deviceName}`);
        const twins = r.device.properties.map((p) => ({
          propertyName: p.name,
          reported: { value: r.value(p.name) ?? '', metadata: { type: p.type } },
          observedDesired: { value: p.desired, metadata: {} },
        }));
        return { device: { ...raw, status: { twins } } };
      }),
    };
  }
}

async function serve(sock: string, impl: grpc.UntypedServiceImplementation): Promise<grpc.Server> {
  mkdirSync(path.dirname(sock), { recursive: true });
  try {
    if (lstatSync(sock).isSocket()) rmSync(sock, { force: true });
  } catch {
    /* not there */
  }
  const server = new grpc.Server();
  server.addService(deviceMapperService(), impl);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err)));
  });
  return server;
}
