import { KubeEdgeError } from '../../core/errors.ts';

/** The embedded broker cannot listen on `mqttServerInternal` (port taken, no permission, unsupported scheme). */
export class EventBusListenError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_EVENTBUS_LISTEN', message, context, cause === undefined ? undefined : { cause });
  }
}

/** The `sub_topics` table cannot be opened or written. */
export class EventBusStoreError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_EVENTBUS_STORE', message, context, cause === undefined ? undefined : { cause });
  }
}

/** `eventBusTLS` is enabled but its CA, certificate or key file cannot be read. */
export class EventBusTlsError extends KubeEdgeError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('KE_EVENTBUS_TLS', message, context, cause === undefined ? undefined : { cause });
  }
}
