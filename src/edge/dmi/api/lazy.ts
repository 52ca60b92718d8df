/**
 * gRPC for DMI, loaded on first use: grpc-js, proto-loader and protobufjs with the parsed DMI schema hold about
 * 10 MB of an edgecore's memory, and most edges never see a mapper. The DMI socket is served without them until
 * a mapper connects (dmi.ts), and a mapper is only called once it registered.
 */
export type GrpcApi = typeof import('./grpc.ts');
export type GrpcLib = typeof import('@grpc/grpc-js');
export type LoadedGrpc = { api: GrpcApi; grpc: GrpcLib };

let loading: Promise<LoadedGrpc> | undefined;

export function loadGrpc(): Promise<LoadedGrpc> {
  loading ??= Promise.all([import('./grpc.ts'), import('@grpc/grpc-js')]).then(([api, grpc]) => ({ api, grpc }));
  return loading;
}
