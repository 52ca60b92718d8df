import { KubeEdgeError } from '../../core/errors.ts';

/** A device's protocol or visitor configData a driver cannot use (wrong register kind, missing ip...). */
export const MAPPER_CONFIG = 'KE_MAPPER_CONFIG';
/** A DMI request to a mapper that it refuses (no device, another protocol); `context.grpcCode` is the answer. */
export const MAPPER_REQUEST = 'KE_MAPPER_REQUEST';

export class MapperError extends KubeEdgeError {}

export const configError = (message: string, context: Record<string, unknown> = {}) => new MapperError(MAPPER_CONFIG, message, context);
export const requestError = (grpcCode: number, message: string) => new MapperError(MAPPER_REQUEST, message, { grpcCode });
