import { KubeEdgeError } from '../../../core/errors.ts';

/**
 * The engine answered with an error status. `statusCode` lets callers tell "no such container" (404) from
 * "conflict" (409) without parsing text; `message` is Docker's own, since that is what an operator searches for.
 */
export class DockerError extends KubeEdgeError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, context: Record<string, unknown> = {}) {
    super('KE_DOCKER', message, { ...context, statusCode });
    this.statusCode = statusCode;
  }
}

/** The engine could not be reached at all (socket missing, refused, timed out). */
export class RuntimeUnavailableError extends KubeEdgeError {
  constructor(endpoint: string, reason: string, options?: { cause?: unknown }) {
    super('KE_RUNTIME_UNAVAILABLE', `container runtime at ${endpoint} is unavailable: ${reason}`, { endpoint }, options);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof DockerError && err.statusCode === 404;
}
