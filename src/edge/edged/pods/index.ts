export { PodManager, type PodManagerOptions, type PodRef } from './pod-manager.ts';
export type { ConfigObject, Pod, PodStatus, ContainerStatus } from './types.ts';
export { PodSetupError } from './errors.ts';
export { L_CONTAINER_NAME, L_MANAGED, L_POD_NAME, L_POD_NAMESPACE, L_POD_UID, L_RESTART_COUNT } from './labels.ts';
