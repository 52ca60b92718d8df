/**
 * The container-engine package (KubeEdge's pkg/containers and pkg/image): the Docker Engine API client, the CRI
 * client (in ./cri, imported lazily because it loads gRPC), the endpoint constants, engine detection and the
 * engine-neutral errors. edged, the start-up checks, keadm, the scripts and the build import engine code only
 * from here; what maps pods onto an engine stays in edged (src/edge/edged/runtime).
 */
export type * from './docker/api-types.ts';
export {
  DockerClient,
  StreamDemuxer,
  demultiplex,
  splitImageRef,
  type BuildOptions,
  type DockerClientOptions,
  type ImageFacts,
  type Progress,
  type VolumeInfo,
} from './docker/client.ts';
export { DOCKER_ENDPOINT, KUBEEDGE_DEFAULT_ENDPOINT, grpcTarget, socketPathOf } from './endpoints.ts';
export { ContainerEngineError, CriError, DockerError, RuntimeUnavailableError, isConflict, isNotFound } from './errors.ts';
export { describeEngine, detectEngine, probeCri, probeDocker, type EngineFacts, type EngineKind } from './detect.ts';
