import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { grpcTarget } from '../endpoints.ts';
import { CriError, RuntimeUnavailableError } from '../errors.ts';
import { timeEngineCall } from '../../metrics/edge.ts';
import { CRI_API_PROTO } from './api-proto.ts';
import type { VersionResponse } from './api-types.ts';

/**
 * The CRI (runtime.v1) gRPC client over a unix socket, for edged's CriRuntime and the start-up checks. The schema travels as a string constant
 * (api-proto.ts) rather than a file next to the module, so the same code works from a single-file bundle.
 */

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, arrays: true, objects: false };

let packageDefinition: protoLoader.PackageDefinition | undefined;

/** proto-loader only reads files: write the embedded schema to a private temp dir once, load it, remove it. */
function loadDefinition(): protoLoader.PackageDefinition {
  if (packageDefinition) return packageDefinition;
  const dir = mkdtempSync(join(tmpdir(), 'ke-cri-proto-'));
  try {
    const file = join(dir, 'api.proto');
    writeFileSync(file, CRI_API_PROTO);
    packageDefinition = protoLoader.loadSync(file, LOADER_OPTIONS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return packageDefinition;
}

type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export type CriClientOptions = {
  endpoint: string;
  /** Deadline for ordinary calls; pulls and stops get their own. */
  timeoutMs?: number;
};

export class CriClient {
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly #runtime: grpc.Client;
  readonly #image: grpc.Client;

  constructor(options: CriClientOptions) {
    this.endpoint = options.endpoint;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const pkg = grpc.loadPackageDefinition(loadDefinition()) as unknown as { runtime: { v1: Record<string, ServiceCtor> } };
    const target = grpcTarget(options.endpoint);
    const RuntimeService = pkg.runtime.v1['RuntimeService'];
    const ImageService = pkg.runtime.v1['ImageService'];
    if (!RuntimeService || !ImageService) throw new CriError('load', grpc.status.INTERNAL, 'CRI schema lacks RuntimeService/ImageService');
    // containerd's default is 16 MiB; ExecSync output and big list answers can exceed gRPC's 4 MiB default.
    const channel: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.#runtime = new RuntimeService(target, grpc.credentials.createInsecure(), channel);
    this.#image = new ImageService(target, grpc.credentials.createInsecure(), channel);
  }

  /** A RuntimeService call; `timeoutMs` 0 means no deadline. */
  call<T>(method: string, req: object, timeoutMs = this.timeoutMs): Promise<T> {
    return this.#invoke(this.#runtime, method, req, timeoutMs);
  }

  /** An ImageService call. */
  callImage<T>(method: string, req: object, timeoutMs = this.timeoutMs): Promise<T> {
    return this.#invoke(this.#image, method, req, timeoutMs);
  }

  /** RuntimeService.Version: which runtime answers, and which CRI version it speaks. */
  version(timeoutMs = this.timeoutMs): Promise<VersionResponse> {
    return this.call<VersionResponse>('Version', { version: 'v1' }, timeoutMs);
  }

  close(): void {
    this.#runtime.close();
    this.#image.close();
  }

  #invoke<T>(client: grpc.Client, method: string, req: object, timeoutMs: number): Promise<T> {
    return timeEngineCall('cri', method, () => this.#call<T>(client, method, req, timeoutMs));
  }

  #call<T>(client: grpc.Client, method: string, req: object, timeoutMs: number): Promise<T> {
    const fn = (client as unknown as Record<string, Unary | undefined>)[method];
    if (typeof fn !== 'function') return Promise.reject(new CriError(method, grpc.status.UNIMPLEMENTED, `CRI method ${method} is not in the schema`));
    const opts: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), opts, (err, res) => {
        if (!err) {
          resolve(res as T);
          return;
        }
        if (err.code === grpc.status.UNAVAILABLE) {
          reject(new RuntimeUnavailableError(this.endpoint, `${method}: ${err.details || err.message}`, { cause: err }));
          return;
        }
        reject(new CriError(method, err.code, err.details || err.message, { endpoint: this.endpoint }));
      });
    });
  }
}
