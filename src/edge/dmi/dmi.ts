/**
 * The DMI module: edgecore's side of KubeEdge's device-manager interface. It serves DeviceManagerService on the
 * DMI unix socket (mappers register and report there) and calls each mapper's DeviceMapperService to hand it the
 * devices and models of its protocol. Devices come from DeviceTwin over the bus (contract B in
 * docs/bus-contract.md); reports go back to DeviceTwin as the twin updates an MQTT client would publish.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { contentAsObject, newMessage, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { EdgeModules } from '../common/modules.ts';
import { loadGrpc, type GrpcLib, type LoadedGrpc } from './api/lazy.ts';
import type { MapperRegisterRequest, MapperRegisterResponse, PbDevice, PbDeviceModel, ReportDeviceStatusRequest } from './api/types.ts';
import {
  deviceKey,
  modelNameOf,
  propertyTypes,
  protocolOf,
  stateUpdateTopic,
  toPbDevice,
  toPbDeviceModel,
  twinUpdatePayload,
  twinUpdateTopic,
  type DeviceKey,
} from './convert.ts';
import { DMI_BAD_REQUEST, DMI_MAPPER_CALL, DMI_SOCKET, DmiError } from './errors.ts';
import { MapperRegistry } from './registry.ts';

export const DMI_MODULE = 'dmi';
export const DMI_GROUP = 'dmi';
export const DEFAULT_DMI_SOCK = '/etc/kubeedge/dmi.sock';

export type DmiOptions = { enable: boolean; sockPath: string; twinQueryTimeoutMs?: number };

type Entry = { device: unknown; model: unknown };
/** What a mapper was last given for a device: its address, so a mapper that moved gets RegisterDevice again. */
type Pushed = { address: string };

const keyOf = (k: DeviceKey) => `${k.namespace}/${k.name}`;

export class DmiModule implements Module {
  readonly name = DMI_MODULE;
  readonly group = DMI_GROUP;
  readonly enabled: boolean;
  readonly #o: DmiOptions;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #listener: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  #serving: Promise<{ server: grpc.Server; injector: grpc.ConnectionInjector }> | undefined;
  #stopped = false;
  #registry: MapperRegistry | undefined;
  readonly #devices = new Map<string, Entry>();
  readonly #byName = new Map<string, string>();
  readonly #pushed = new Map<string, Pushed>();
  readonly #models = new Map<string, string>(); // model name -> mapper address it was created on
  readonly #online = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  readonly counters = { reports: 0, rejected: 0, mapperCallErrors: 0 };

  constructor(o: DmiOptions) {
    this.enabled = o.enable;
    this.#o = o;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    const sock = path.resolve(this.#o.sockPath);
    this.#registry = new MapperRegistry(`${sock}.mappers.json`, ctx.log);
    this.#listener = await listen(sock, (socket) => this.#accept(socket));
    this.#registry.load();
    ctx.bus.register(DMI_MODULE, DMI_GROUP, (m) => this.#onMessage(m));
    ctx.log.info({ socket: sock, mappers: this.#registry.list().map((e) => e.name) }, 'DMI server listening');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#bus?.unregister(DMI_MODULE);
    const s = await this.#serving?.catch(() => undefined);
    if (s !== undefined) await new Promise<void>((r) => s.server.tryShutdown(() => r()));
    for (const socket of this.#sockets) socket.destroy();
    const l = this.#listener;
    if (l !== undefined) await new Promise<void>((r) => l.close(() => r()));
    this.#registry?.close();
    rmSync(path.resolve(this.#o.sockPath), { force: true });
  }

  /** A mapper connected: gRPC is loaded (once) and takes the connection over; the socket stays paused until then. */
  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    this.#serving ??= loadGrpc().then((g) => this.#grpcServer(g));
    this.#serving.then(
      ({ injector }) => {
        if (this.#stopped) socket.destroy();
        else {
          injector.injectConnection(socket);
          socket.resume(); // paused since accept (pauseOnConnect); HTTP/2 reads from here on
        }
      },
      (err: unknown) => {
        this.#log?.error({ err }, 'DMI gRPC server could not start; mapper connection closed');
        socket.destroy();
      },
    );
  }

  #grpcServer({ api, grpc }: LoadedGrpc): { server: grpc.Server; injector: grpc.ConnectionInjector } {
    const server = new grpc.Server();
    server.addService(api.deviceManagerService(), this.#handlers(grpc));
    return { server, injector: server.createConnectionInjector(grpc.ServerCredentials.createInsecure()) };
  }

  #handlers(grpc: GrpcLib): grpc.UntypedServiceImplementation {
    return {
      MapperRegister: (c: grpc.ServerUnaryCall<MapperRegisterRequest, MapperRegisterResponse>, cb: grpc.sendUnaryData<MapperRegisterResponse>) => {
        this.#mapperRegister(c.request).then(
          (r) => cb(null, r),
          (err: unknown) => cb(grpcError(grpc, err)),
        );
      },
      ReportDeviceStatus: (c: grpc.ServerUnaryCall<ReportDeviceStatusRequest, object>, cb: grpc.sendUnaryData<object>) => {
        try {
          this.#report(c.request);
          cb(null, {});
        } catch (err) {
          cb(grpcError(grpc, err));
        }
      },
    };
  }

  async #mapperRegister(req: MapperRegisterRequest): Promise<MapperRegisterResponse> {
    const m = req.mapper;
    const address = m === undefined || m === null ? '' : typeof m.address === 'string' ? m.address : Buffer.from(m.address).toString('utf8');
    if (m === undefined || m === null || m.protocol === '' || address === '') {
      this.counters.rejected++;
      throw new DmiError(DMI_BAD_REQUEST, 'MapperRegister needs mapper.protocol and mapper.address', { mapper: m?.name });
    }
    const registry = this.#registry;
    if (registry === undefined) throw new DmiError(DMI_BAD_REQUEST, 'DMI server not started');
    registry.set({ name: m.name, protocol: m.protocol, address, version: m.version, apiVersion: m.api_version });
    // A (re)started mapper holds nothing: forget what we had given it.
    for (const [k, p] of this.#pushed) if (p.address === address) this.#pushed.delete(k);
    for (const [k, a] of this.#models) if (a === address) this.#models.delete(k);
    this.#log?.info({ mapper: m.name, protocol: m.protocol, address, withData: req.withData }, 'mapper registered');
    await this.#refreshFromTwin();
    const mine = [...this.#devices.entries()].filter(([, e]) => protocolOf(e.device) === m.protocol);
    if (!req.withData) {
      // It will not take the list in the answer: hand each device over as KubeEdge's RegisterDevice.
      setImmediate(() => {
        for (const [k] of mine) this.#enqueue(k);
      });
      return { modelList: [], deviceList: [] };
    }
    const deviceList: PbDevice[] = [];
    const models = new Map<string, PbDeviceModel>();
    for (const [k, e] of mine) {
      try {
        deviceList.push(toPbDevice(e.device));
        if (e.model !== null && e.model !== undefined) models.set(modelNameOf(e.device), toPbDeviceModel(e.model));
        this.#pushed.set(k, { address });
      } catch (err) {
        this.#log?.warn({ err, device: k }, 'device left out of MapperRegister: it cannot be converted');
      }
    }
    for (const name of models.keys()) this.#models.set(name, address);
    return { deviceList, modelList: [...models.values()] };
  }

  /** DeviceTwin holds the node's devices; ask it, so a mapper registering right after a restart gets them all. */
  async #refreshFromTwin(): Promise<void> {
    const bus = this.#bus;
    if (bus === undefined || !bus.has(EdgeModules.deviceTwin)) return;
    try {
      const res = await bus.request(
        EdgeModules.deviceTwin,
        newMessage({ source: DMI_MODULE, group: 'twin', operation: 'query', resource: 'dmi/devices' }),
        this.#o.twinQueryTimeoutMs ?? 5000,
      );
      const items = (contentAsObject(res) as { items?: unknown } | null)?.items;
      if (!Array.isArray(items)) return;
      // DeviceTwin's list is the node's: a device it no longer has was deleted while we did not hear of it.
      const keep = new Set<string>();
      for (const it of items as Entry[]) keep.add(this.#store(it.device, it.model ?? null));
      for (const key of [...this.#devices.keys()]) {
        if (keep.has(key)) continue;
        this.#devices.delete(key);
        const name = key.slice(key.indexOf('/') + 1);
        if (this.#byName.get(name) === key) this.#byName.delete(name);
      }
    } catch (err) {
      this.#log?.warn({ err }, 'DeviceTwin did not answer the device query; answering from what DMI holds');
    }
  }

  #store(device: unknown, model: unknown): string {
    const k = deviceKey(device);
    const key = keyOf(k);
    this.#devices.set(key, { device, model });
    this.#byName.set(k.name, key);
    return key;
  }

  #report(req: ReportDeviceStatusRequest): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    if (typeof req.deviceName !== 'string' || req.deviceName === '') {
      this.counters.rejected++;
      throw new DmiError(DMI_BAD_REQUEST, 'ReportDeviceStatus needs deviceName');
    }
    // DMI v1beta1 names a device without its namespace; the ones we handed out tell us which it is.
    const key = this.#byName.get(req.deviceName) ?? `default/${req.deviceName}`;
    const [namespace = 'default', name = req.deviceName] = key.split('/');
    const k = { namespace, name };
    const entry = this.#devices.get(key);
    const now = Date.now();
    const payload = twinUpdatePayload(req, entry === undefined ? {} : propertyTypes(entry.model), randomUUID(), now);
    // nothing reported (no twins, or none with a reported value): DeviceTwin would only answer with an error
    if (Object.keys(payload.twin).length === 0) return;
    this.counters.reports++;
    bus.send(
      EdgeModules.deviceTwin,
      newMessage({ source: DMI_MODULE, group: 'twin', operation: 'update', resource: twinUpdateTopic(k), content: JSON.stringify(payload) }),
    );
    if (!this.#online.has(key)) {
      this.#online.add(key);
      bus.send(
        EdgeModules.deviceTwin,
        newMessage({
          source: DMI_MODULE,
          group: 'twin',
          operation: 'update',
          resource: stateUpdateTopic(k),
          content: JSON.stringify({ event_id: randomUUID(), timestamp: now, state: 'online' }),
        }),
      );
    }
  }

  #onMessage(m: Message): void {
    const op = m.route.operation;
    const c = contentAsObject(m) as { device?: unknown; model?: unknown } | null;
    if (c === null || typeof c !== 'object' || c.device === undefined) {
      this.counters.rejected++;
      this.#log?.warn({ resource: m.route.resource, operation: op }, 'device message without content.device ignored');
      return;
    }
    if (op === 'insert' || op === 'update') {
      const key = this.#store(c.device, c.model ?? null);
      this.#online.delete(key);
      this.#enqueue(key);
    } else if (op === 'delete') {
      const k = deviceKey(c.device);
      const key = keyOf(k);
      const entry = this.#devices.get(key);
      this.#devices.delete(key);
      if (this.#byName.get(k.name) === key) this.#byName.delete(k.name);
      this.#online.delete(key);
      if (entry !== undefined) this.#run(() => this.#remove(key, entry));
    } else {
      this.counters.rejected++;
      this.#log?.warn({ resource: m.route.resource, operation: op }, 'unknown operation for dmi ignored');
    }
  }

  /** Calls to mappers go one at a time, in the order DeviceTwin sent them. */
  #run(f: () => Promise<void>): void {
    this.#chain = this.#chain.then(f).catch((err: unknown) => {
      this.counters.mapperCallErrors++;
      this.#log?.warn({ err }, 'call to a mapper failed; the device is handed over again when its mapper registers');
    });
  }

  #enqueue(key: string): void {
    this.#run(() => this.#push(key));
  }

  async #push(key: string): Promise<void> {
    const e = this.#devices.get(key);
    const registry = this.#registry;
    if (e === undefined || registry === undefined) return;
    const protocol = protocolOf(e.device);
    const mapper = registry.get(protocol);
    const client = await registry.client(protocol);
    const before = this.#pushed.get(key)?.address;
    if (before !== undefined && before !== mapper?.address) {
      // the device changed protocol: the mapper that had it lets it go
      const old = registry.protocolAt(before);
      const oldClient = old === undefined ? undefined : await registry.client(old);
      this.#pushed.delete(key);
      if (oldClient !== undefined) await call(oldClient, 'RemoveDevice', { deviceName: deviceKey(e.device).name }).catch(() => undefined);
    }
    if (mapper === undefined || client === undefined) {
      this.#log?.debug({ device: key, protocol }, 'no mapper for this protocol yet');
      return;
    }
    const modelName = modelNameOf(e.device);
    try {
      if (e.model !== null && e.model !== undefined) {
        const known = this.#models.get(modelName) === mapper.address;
        await call(client, known ? 'UpdateDeviceModel' : 'CreateDeviceModel', { model: toPbDeviceModel(e.model) });
        this.#models.set(modelName, mapper.address);
      }
      const known = this.#pushed.get(key)?.address === mapper.address;
      await call(client, known ? 'UpdateDevice' : 'RegisterDevice', { device: toPbDevice(e.device) });
      this.#pushed.set(key, { address: mapper.address });
      this.#log?.info({ device: key, mapper: mapper.name, call: known ? 'UpdateDevice' : 'RegisterDevice' }, 'device handed to mapper');
    } catch (err) {
      this.#pushed.delete(key);
      throw new DmiError(DMI_MAPPER_CALL, `handing device ${key} to mapper ${mapper.name} failed`, { device: key, mapper: mapper.name }, { cause: err });
    }
  }

  async #remove(key: string, e: Entry): Promise<void> {
    const protocol = protocolOf(e.device);
    const client = await this.#registry?.client(protocol);
    this.#pushed.delete(key);
    if (client === undefined) return;
    await call(client, 'RemoveDevice', { deviceName: deviceKey(e.device).name }).catch((err: unknown) => {
      throw new DmiError(DMI_MAPPER_CALL, `removing device ${key} from its mapper failed`, { device: key }, { cause: err });
    });
    const model = modelNameOf(e.device);
    const stillUsed = [...this.#devices.values()].some((d) => modelNameOf(d.device) === model && protocolOf(d.device) === protocol);
    if (!stillUsed && this.#models.has(model)) {
      this.#models.delete(model);
      await call(client, 'RemoveDeviceModel', { modelName: model }).catch(() => undefined);
    }
  }
}

/** A unary call to a mapper; gRPC is loaded already (there is a client), so this only waits a resolved promise. */
async function call<T>(client: grpc.Client, method: string, req: unknown): Promise<T> {
  return (await loadGrpc()).api.call<T>(client, method, req);
}

function grpcError(grpc: GrpcLib, err: unknown): grpc.ServiceError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = e instanceof DmiError && e.code === DMI_BAD_REQUEST ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
  return Object.assign(e, { code, details: e.message, metadata: new grpc.Metadata() }) as grpc.ServiceError;
}

/** Binds the DMI socket. A stale socket file is replaced; anything else in the way is a start-up error. */
async function listen(sock: string, onConnection: (s: net.Socket) => void): Promise<net.Server> {
  try {
    mkdirSync(path.dirname(sock), { recursive: true });
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(sock);
    } catch {
      st = undefined;
    }
    if (st !== undefined) {
      if (!st.isSocket()) throw new Error('a file that is not a socket is in the way');
      rmSync(sock, { force: true });
    }
  } catch (err) {
    throw new DmiError(
      DMI_SOCKET,
      `DMI server cannot listen on ${sock}: ${(err as Error).message} (modules.deviceTwin.dmiSockPath)`,
      { socket: sock },
      { cause: err },
    );
  }
  // pauseOnConnect: nothing is read before gRPC's HTTP/2 session takes the socket over
  const server = net.createServer({ pauseOnConnect: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new DmiError(DMI_SOCKET, `DMI server cannot listen on ${sock}: ${err.message} (modules.deviceTwin.dmiSockPath)`, { socket: sock }, { cause: err }),
      ),
    );
    server.listen(sock, () => resolve());
  });
  server.on('error', () => undefined);
  return server;
}
