import { KubeEdgeError } from '../../core/errors.ts';

/** The edge could not reach or keep the cloud link (dial, TLS, handshake, write). */
export class EdgeHubError extends KubeEdgeError {
  constructor(code: `KE_EDGEHUB_${string}`, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, context, cause === undefined ? {} : { cause });
  }
}
