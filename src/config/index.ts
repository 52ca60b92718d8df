export {
  apiServerEnabled,
  cloudCoreSchema,
  CONTROLLER_NAMES,
  embeddedControlPlaneEnabled,
  selectedControllers,
  CLOUDCORE_API_VERSION,
  CLOUDCORE_KIND,
  DEFAULT_CLOUDCORE_CONFIG_PATH,
} from './cloudcore.ts';
export type { CloudCoreConfig } from './cloudcore.ts';
export {
  edgeCoreSchema,
  EDGECORE_API_VERSION,
  EDGECORE_V1ALPHA1_API_VERSION,
  EDGECORE_KIND,
  DEFAULT_EDGECORE_CONFIG_PATH,
  DEFAULT_PROJECT_ID,
} from './edgecore.ts';
export type { EdgeCoreConfig } from './edgecore.ts';
export { ConfigError, DurationError, formatConfigProblems, formatProblem } from './errors.ts';
export type { ConfigProblem } from './errors.ts';
export { parseDuration, isDuration } from './duration.ts';
export { detectHost } from './host.ts';
export type { HostFacts } from './host.ts';
export { isNodeName } from './fields.ts';
export { loadCloudCoreConfig, loadEdgeCoreConfig, parseCloudCoreConfig, parseEdgeCoreConfig, starterFix } from './load.ts';
export type { ConfigKind, LoadOptions } from './load.ts';
export type { ParseResult } from './validate.ts';
export { defaultConfigYaml, minConfigYaml, defaultCloudCoreConfig, defaultEdgeCoreConfig, minCloudCoreConfig, minEdgeCoreConfig } from './print.ts';
export { loadOrExit, CONFIG_EXIT_CODE } from './cli.ts';
export { configNotes, effectOf, EXTENSIONS, HONOURED, KUBEEDGE_DEFAULTS_VERSION, NOT_APPLICABLE, NOT_BUILT_MODULES } from './effects.ts';
export type { KeyEffect } from './effects.ts';
