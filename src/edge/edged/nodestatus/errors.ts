import { KubeEdgeError } from '../../../core/errors.ts';

/** A request edged sent through metamanager came back as an error or an unexpected reply. */
export class EdgedRequestError extends KubeEdgeError {
  constructor(operation: string, resource: string, detail: string, context: Record<string, unknown> = {}) {
    super('KE_EDGED_REQUEST', `${operation} ${resource}: ${detail}`, { ...context, operation, resource });
  }
}
