// Kept for the downstream half's imports; the reading of a pod lives in cloud/common, shared with the node authorizer.
export { podReferences, type PodRefs } from '../../common/pod-refs.ts';
