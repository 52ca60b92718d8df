import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DMI_API_PROTO } from './api-proto.ts';

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true, objects: true };

let definition: grpc.GrpcObject | undefined;

/** proto-loader only reads files: write the embedded schema to a private temp dir once, load it, remove it. */
function load(): grpc.GrpcObject {
  if (definition) return definition;
  const dir = mkdtempSync(join(tmpdir(), 'ke-dmi-proto-'));
  try {
    const file = join(dir, 'api.proto');
    writeFileSync(file, DMI_API_PROTO);
    definition = grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return definition;
}

type ServiceCtor = grpc.ServiceClientConstructor;

function service(name: 'DeviceManagerService' | 'DeviceMapperService'): ServiceCtor {
  const pkg = load()['v1beta1'] as grpc.GrpcObject;
  return pkg[name] as ServiceCtor;
}

export const deviceManagerService = (): grpc.ServiceDefinition => service('DeviceManagerService').service;
export const deviceMapperService = (): grpc.ServiceDefinition => service('DeviceMapperService').service;

/** A gRPC client over a unix socket path (the DMI socket or a mapper's). */
export function dmiClient(name: 'DeviceManagerService' | 'DeviceMapperService', socketPath: string): grpc.Client {
  const Ctor = service(name);
  return new Ctor(`unix:${socketPath}`, grpc.credentials.createInsecure());
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/** One unary call with a deadline; rejects with the gRPC error. */
export function call<T>(client: grpc.Client, method: string, req: unknown, timeoutMs = 5000): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (fn === undefined) return Promise.reject(new Error(`no method ${method}`));
  return new Promise((resolve, reject) => {
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}
