/** The one place config trouble turns into an exit: the daemons call loadOrExit at start. */
import { ConfigError, formatConfigProblems } from './errors.ts';
import { loadCloudCoreConfig, loadEdgeCoreConfig, type ConfigKind, type LoadOptions } from './load.ts';
import type { CloudCoreConfig } from './cloudcore.ts';
import type { EdgeCoreConfig } from './edgecore.ts';
import type { ParseResult } from './validate.ts';

/** Exit code for a config that cannot be used (as for a usage error). */
export const CONFIG_EXIT_CODE = 2;

export function loadOrExit(kind: 'cloudcore', path: string, opts?: LoadOptions): ParseResult<CloudCoreConfig>;
export function loadOrExit(kind: 'edgecore', path: string, opts?: LoadOptions): ParseResult<EdgeCoreConfig>;
/**
 * Loads the config, or writes `<kind>: invalid config <path>:` and one line per problem to stderr and exits 2.
 * @example const { config, warnings } = loadOrExit('edgecore', opts.config)
 */
export function loadOrExit(kind: ConfigKind, path: string, opts: LoadOptions = {}): ParseResult<CloudCoreConfig> | ParseResult<EdgeCoreConfig> {
  try {
    return kind === 'cloudcore' ? loadCloudCoreConfig(path, opts) : loadEdgeCoreConfig(path, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${kind}: invalid config ${path}:\n${formatConfigProblems(err)}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
}
