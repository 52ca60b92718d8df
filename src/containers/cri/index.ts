// The CRI side of the container-engine package. Importing it loads gRPC and the CRI schema, so callers that may
// run on a Docker-only edge import it lazily (`await import(...)`), as detect.ts does.
export type * from './api-types.ts';
export { CriClient, type CriClientOptions } from './client.ts';
