import { KubeEdgeError } from '../../core/errors.ts';

/** CloudHub could not serve (listen failed, bad TLS material) or a node could not be reached. */
export class CloudHubError extends KubeEdgeError {
  constructor(code: `KE_CLOUDHUB_${string}`, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, context, cause === undefined ? {} : { cause });
  }
}
