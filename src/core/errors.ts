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

/**
 * One line for a human (stderr of a CLI, a pod status message, a check result): the message followed by
 * those of its causes, so a typed error need not repeat its cause's text. Logs get the structured form
 * (code, context, cause) from the logger's `err` serializer instead.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e); e = e instanceof Error ? e.cause : undefined) {
    seen.add(e);
    const text = e instanceof Error ? e.message : String(e);
    if (text !== '' && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(': ');
}
