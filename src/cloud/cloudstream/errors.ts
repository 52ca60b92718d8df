import { KubeEdgeError } from '../../core/errors.ts';

/** CloudStream errors. Codes: KE_CLOUDSTREAM_LISTEN (a port could not be bound), KE_CLOUDSTREAM_NO_TUNNEL (the node has no tunnel). */
export class CloudStreamError extends KubeEdgeError {}
