/** The label that makes a Node an edge node (value ""), as in KubeEdge's `cloud/pkg/common/nodes`. */
export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';

export { EDGEMESH_ENABLED, EDGEMESH_LABEL } from '../../kube/labels.ts';
