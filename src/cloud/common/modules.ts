/**
 * cloudcore's module names and groups, one place for all of them. The values are KubeEdge's
 * (`cloud/pkg/common/modules/modules.go`): a module name is also a message's `route.source` on the wire (the
 * edge sees `edgecontroller` on every pod it receives), so they must stay exactly these strings.
 */
export const CloudModules = {
  cloudHub: 'cloudhub',
  edgeController: 'edgecontroller',
  syncController: 'synccontroller',
  deviceController: 'devicecontroller',
  dynamicController: 'dynamiccontroller',
  /** kubeedge-ts's own: the edges' usage samples for metrics.k8s.io (edgemetrics/). */
  edgeMetrics: 'edgemetrics',
} as const;

/** Module groups; in KubeEdge each cloud module is alone in a group of its own name. */
export const CloudGroups = {
  cloudHub: 'cloudhub',
  edgeController: 'edgecontroller',
  syncController: 'synccontroller',
  deviceController: 'devicecontroller',
  dynamicController: 'dynamiccontroller',
  /** The message group of EventBus/ServiceBus/router traffic (never acked). */
  user: 'user',
} as const;

/** Upstream `route.source` values that pick the cloud module an edge message goes to (KubeEdge's DispatchUpstream). */
export const UpstreamSources = {
  twin: 'twin',
  metaServer: 'metaserver',
} as const;
