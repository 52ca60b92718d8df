import { KubeEdgeError } from '../../../core/errors.ts';

/** A pod cannot be set up yet (missing configMap/secret, bad volume); the pod stays Pending and is retried. */
export class PodSetupError extends KubeEdgeError {
  readonly reason: string;
  constructor(reason: string, message: string, context: Record<string, unknown> = {}) {
    super('KE_POD_SETUP', message, context);
    this.reason = reason;
  }
}
