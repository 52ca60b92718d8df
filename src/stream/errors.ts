import { KubeEdgeError } from '../core/errors.ts';

/**
 * Tunnel errors. Codes: KE_TUNNEL_RESET (the peer or a limit reset the stream; `reason` says which),
 * KE_TUNNEL_CLOSED (the tunnel's connection went away under an open stream), KE_TUNNEL_DIAL (could not connect),
 * KE_TUNNEL_LIMIT (a local limit refused to open a stream).
 */
export class TunnelError extends KubeEdgeError {}

export class StreamResetError extends TunnelError {
  readonly reason: string;
  constructor(reason: string, context: Record<string, unknown> = {}) {
    super('KE_TUNNEL_RESET', `tunnel stream reset: ${reason}`, { ...context, reason });
    this.reason = reason;
  }
}
