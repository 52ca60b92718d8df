export { assertEdgeEnvironment, edgeChecks, environmentChecksEnabled } from './edge.ts';
export type { EdgeCheckOptions } from './edge.ts';
export { EnvironmentCheckError, failures, formatCheck, fail, ok, warn } from './types.ts';
export type { CheckResult, CheckStatus } from './types.ts';
export { checkEngineSocket } from './engine.ts';
export { checkSamePathMounts, hostPathOf, inContainer, ownContainerId } from './container.ts';
export { checkCapabilities, checkInterface, checkIptables, checkPort, effectiveCaps, hasCap } from './network.ts';
export { checkClockSkew, checkDiskSpace } from './host.ts';
export { checkEventBus } from './mqtt.ts';
