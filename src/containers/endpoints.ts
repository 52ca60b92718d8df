import { RuntimeUnavailableError } from './errors.ts';

/** KubeEdge's default `containerRuntimeEndpoint` (and `imageServiceEndpoint`): containerd's CRI socket. */
export const KUBEEDGE_DEFAULT_ENDPOINT = 'unix:///run/containerd/containerd.sock';
/** The Docker engine's socket, where keadm runs its containers and where a Docker edge points edged. */
export const DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';

/** `unix:///path` (the form used in the edgecore config) or a bare socket path → the socket path. */
export function socketPathOf(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint.slice('unix://'.length);
  if (endpoint.includes('://')) throw new RuntimeUnavailableError(endpoint, 'only unix:// endpoints are supported');
  return endpoint;
}

/** The same endpoint as a gRPC target (`unix:///path`). */
export function grpcTarget(endpoint: string): string {
  return `unix://${socketPathOf(endpoint)}`;
}
