import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import type { Message } from '../../core/message.ts';
import { EdgeGroups, EdgeModules, RouterSources } from '../common/modules.ts';

/** Where a cloud message went: a waiter (`respond`), a module name, or nowhere. */
export type InboundRoute = 'respond' | 'dropped' | string;

/**
 * Routes one cloud message on the edge bus, after KubeEdge's edgehub message handlers: replies complete their
 * waiter; otherwise by group (`resource`/`func` -> metamanager, `twin` -> twin, `user` -> eventbus/servicebus by
 * source, `taskmanager` -> taskmanager).
 */
export function dispatchInbound(bus: Bus, msg: Message, log: Logger): InboundRoute {
  const parent = msg.header.parent_msg_id;
  if (parent !== undefined && parent !== '' && bus.respond(msg)) return 'respond';
  const group = msg.route.group ?? '';
  let target: string | undefined;
  switch (group) {
    case 'resource':
    case 'func':
      target = EdgeModules.metaManager;
      break;
    case EdgeGroups.twin:
      target = EdgeModules.deviceTwin;
      break;
    case EdgeGroups.user:
      if (msg.route.source === RouterSources.eventBus) target = EdgeModules.eventBus;
      else if (msg.route.source === RouterSources.serviceBus) target = EdgeModules.serviceBus;
      break;
    case 'taskmanager':
      target = EdgeModules.taskManager;
      break;
  }
  if (target === undefined) {
    log.warn({ group, source: msg.route.source, resource: msg.route.resource }, 'cloud message with unknown group dropped');
    return 'dropped';
  }
  if (!bus.send(target, msg)) return 'dropped';
  return target;
}
