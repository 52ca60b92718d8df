import { KubeEdgeError } from '../core/errors.ts';

/**
 * Engine-neutral errors of the container engines (Docker Engine API, CRI). Callers that only need to know "gone",
 * "unreachable" or "refused" test `notFound` or the class, never the engine; the codes stay engine-specific so a
 * log search still finds Docker's or containerd's own words.
 */
export class ContainerEngineError extends KubeEdgeError {
  /** The engine said the object (container, image, volume) does not exist. */
  readonly notFound: boolean;
  /** The engine refused because the name is taken or the object is in the way (Docker 409, CRI ALREADY_EXISTS). */
  readonly conflict: boolean;
  constructor(
    code: string,
    message: string,
    facts: { notFound?: boolean; conflict?: boolean },
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options);
    this.notFound = facts.notFound ?? false;
    this.conflict = facts.conflict ?? false;
  }
}

/**
 * The Docker engine answered with an error status. `statusCode` lets callers tell "no such container" (404) from
 * "conflict" (409) without parsing text; `message` is Docker's own, since that is what an operator searches for.
 */
export class DockerError extends ContainerEngineError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, context: Record<string, unknown> = {}) {
    super('KE_DOCKER', message, { notFound: statusCode === 404, conflict: statusCode === 409 }, { ...context, statusCode });
    this.statusCode = statusCode;
  }
}

/** gRPC's NOT_FOUND and ALREADY_EXISTS statuses (constants here, so that this module does not load gRPC). */
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

/** A CRI runtime answered a call with an error; `grpcCode` is the gRPC status, `message` the runtime's own. */
export class CriError extends ContainerEngineError {
  readonly grpcCode: number;
  readonly method: string;
  constructor(method: string, grpcCode: number, message: string, context: Record<string, unknown> = {}) {
    super('KE_CRI', message, { notFound: grpcCode === GRPC_NOT_FOUND, conflict: grpcCode === GRPC_ALREADY_EXISTS }, { ...context, method, grpcCode });
    this.grpcCode = grpcCode;
    this.method = method;
  }
}

/** No engine could be reached at the endpoint at all (socket missing, refused, timed out, or the wrong protocol). */
export class RuntimeUnavailableError extends ContainerEngineError {
  readonly endpoint: string;
  constructor(endpoint: string, reason: string, options?: { cause?: unknown }) {
    super('KE_RUNTIME_UNAVAILABLE', `container runtime at ${endpoint} is unavailable: ${reason}`, {}, { endpoint }, options);
    this.endpoint = endpoint;
  }
}

/** "No such container/image/volume", from either engine. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ContainerEngineError && err.notFound;
}

/** "The name is taken", from either engine. */
export function isConflict(err: unknown): boolean {
  return err instanceof ContainerEngineError && err.conflict;
}
