import type { Message } from '../../../core/message.ts';
import { CloudGroups, CloudModules } from '../../common/modules.ts';

const NO_ACK_RESOURCE_PARTS = ['podlist', 'membership', 'twin/cloud_updated', 'serviceaccounttoken', 'k8s/ca.crt'];
const NO_ACK_SOURCES = new Set(['taskmanager', 'nodeupgradejobcontroller']);
const EDGECONTROLLER_NO_ACK_TYPES = new Set(['lease', 'nodepatch', 'podpatch', 'podstatus', 'certificatesigningrequest']);
const RELIABLE_OPS = new Set(['insert', 'update', 'delete']);

/**
 * KubeEdge's `noAckRequired`, inverted: whether a downstream message (edge form, `<ns>/<type>/<name>`) goes
 * through the reliable queue. Replies, node/lease/patch traffic and device-twin chatter are fire-and-forget.
 */
export function needsAck(msg: Message): boolean {
  const op = msg.route.operation ?? '';
  if (!RELIABLE_OPS.has(op)) return false;
  if (msg.header.parent_msg_id !== undefined && msg.header.parent_msg_id !== '') return false;
  if (msg.route.group === CloudGroups.user) return false;
  if (NO_ACK_SOURCES.has(msg.route.source ?? '')) return false;
  if (msg.content === 'OK') return false;
  const resource = msg.route.resource ?? '';
  if (NO_ACK_RESOURCE_PARTS.some((p) => resource.includes(p))) return false;
  if (msg.route.source === CloudModules.edgeController) {
    const type = resource.split('/')[1] ?? '';
    if (EDGECONTROLLER_NO_ACK_TYPES.has(type)) return false;
    if (type === 'node' && op !== 'update') return false;
  }
  return true;
}
