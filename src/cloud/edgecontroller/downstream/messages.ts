import { newMessage, type Message } from '../../../core/message.ts';
import type { KubeObject } from '../../../kube/rest.ts';
import { CloudModules } from '../../common/modules.ts';

/**
 * A downstream resource message as KubeEdge's edgecontroller builds it: `node/<node>/<ns>/<type>/<name>`,
 * the full object (with kind/apiVersion) as content and its resourceVersion in the header.
 */
export function objectMessage(nodeId: string, operation: string, type: string, obj: KubeObject): Message {
  const ns = obj.metadata?.namespace ?? '';
  return newMessage({
    source: CloudModules.edgeController,
    group: 'resource',
    operation,
    resource: `node/${nodeId}/${ns === '' ? 'null' : ns}/${type}/${obj.metadata?.name ?? ''}`,
    content: obj,
    resourceVersion: obj.metadata?.resourceVersion ?? '',
  });
}

/** KubeEdge's message type token per kind. */
export const TYPE_OF_KIND: Readonly<Record<string, string>> = {
  Pod: 'pod',
  ConfigMap: 'configmap',
  Secret: 'secret',
  // for EdgeMesh (KubeEdge v1.4's `service` and `endpoints`; slices ours)
  Service: 'service',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslice',
};
