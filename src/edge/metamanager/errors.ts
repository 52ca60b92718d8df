import { KubeEdgeError } from '../../core/errors.ts';

/** The local SQLite store could not be opened or written. */
export class MetaStoreError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_META_STORE', message, context, cause === undefined ? undefined : { cause });
  }
}
