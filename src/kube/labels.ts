/**
 * Set by edgecore on its Node when `modules.edgeMesh.enable` (value `enabled`), read by cloudcore's EdgeController:
 * such nodes are sent the cluster's Services and their endpoints. Our own label (KubeEdge v1.4 pushed Services to
 * every edge node). Both daemons use it, so it sits here and not in either's folder.
 */
export const EDGEMESH_LABEL = 'kubeedge.io/edgemesh';
export const EDGEMESH_ENABLED = 'enabled';
