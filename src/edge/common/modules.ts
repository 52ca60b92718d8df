/**
 * edgecore's module names and groups, one place for all of them. The values are KubeEdge's
 * (`edge/pkg/common/modules/names.go`, `group.go`); a module name is also the `route.source` of what it sends
 * (the cloud sees `edged` and `websocket`), so they must stay exactly these strings. EdgeHub is `websocket`.
 */
export const EdgeModules = {
  edged: 'edged',
  edgeHub: 'websocket',
  metaManager: 'metamanager',
  deviceTwin: 'twin',
  eventBus: 'eventbus',
  serviceBus: 'servicebus',
  taskManager: 'taskmanager',
  /** Not in KubeEdge since v1.8 (EdgeMesh moved out); its v1.7 name. */
  edgeMesh: 'edgemesh',
} as const;

export const EdgeGroups = {
  bus: 'bus',
  hub: 'hub',
  twin: 'twin',
  meta: 'meta',
  edged: 'edged',
  user: 'user',
  edgeMesh: 'edgemesh',
} as const;

/** `route.source` of router traffic from the cloud, which picks EventBus or ServiceBus on the edge. */
export const RouterSources = {
  eventBus: 'router_eventbus',
  serviceBus: 'router_servicebus',
} as const;
