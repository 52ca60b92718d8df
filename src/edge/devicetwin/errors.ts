import { KubeEdgeError } from '../../core/errors.ts';

/** The device tables (`device`, `device_attr`, `device_twin`) cannot be opened or written. */
export class TwinStoreError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_TWIN_STORE', message, context, cause === undefined ? undefined : { cause });
  }
}
