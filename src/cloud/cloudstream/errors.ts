import { KubeEdgeError } from '../../core/errors.ts';

/** CloudStream errors. Code: KE_CLOUDSTREAM_LISTEN (a port could not be bound). */
export class CloudStreamError extends KubeEdgeError {}
