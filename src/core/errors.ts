/**
 * Base of every typed error in kubeedge-ts. `code` is stable and machine-readable; `context` carries the
 * facts a reader needs (node name, resource, key path) so logs explain themselves without a stack trace.
 */
export class KubeEdgeError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;
  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** A request on the bus got no response in time. */
export class TimeoutError extends KubeEdgeError {
  constructor(what: string, timeoutMs: number, context: Record<string, unknown> = {}) {
    super('KE_TIMEOUT', `${what} timed out after ${timeoutMs} ms`, { ...context, timeoutMs });
  }
}

/** A message from the network or the bus that does not have the shape we accept. */
export class MalformedMessageError extends KubeEdgeError {
  constructor(reason: string, context: Record<string, unknown> = {}) {
    super('KE_MALFORMED_MESSAGE', `malformed message: ${reason}`, context);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
