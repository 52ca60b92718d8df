import { KubeEdgeError } from '../../core/errors.ts';

export const DMI_SOCKET = 'KE_DMI_SOCKET';
export const DMI_MAPPER_CALL = 'KE_DMI_MAPPER_CALL';
export const DMI_BAD_REQUEST = 'KE_DMI_BAD_REQUEST';

/** Errors of the DMI server and of its calls to mappers. */
export class DmiError extends KubeEdgeError {}
