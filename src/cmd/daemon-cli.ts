import { Command } from 'commander';
import { DEFAULT_CLOUDCORE_CONFIG_PATH, DEFAULT_EDGECORE_CONFIG_PATH, defaultConfigYaml, minConfigYaml } from '../config/index.ts';
import { VERSION } from '../version.ts';

export type DaemonKind = 'cloudcore' | 'edgecore';

const DEFAULT_PATH: Record<DaemonKind, string> = {
  cloudcore: DEFAULT_CLOUDCORE_CONFIG_PATH,
  edgecore: DEFAULT_EDGECORE_CONFIG_PATH,
};

/**
 * The flags both daemons share with KubeEdge's: `--config`, `--defaultconfig`, `--minconfig`, `--version`.
 * Returns the config path to run with, or undefined when a flag printed something and the process is done.
 */
export function parseDaemonArgs(kind: DaemonKind, argv: string[], description: string): string | undefined {
  const program = new Command(kind)
    .description(description)
    .option('--config <file>', 'the config file', DEFAULT_PATH[kind])
    .option('--defaultconfig', 'print the default config with every key and exit')
    .option('--minconfig', 'print a minimal config to start from and exit')
    .option('--version', 'print the version and exit')
    .allowExcessArguments(false)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ config: string; defaultconfig?: boolean; minconfig?: boolean; version?: boolean }>();
  if (o.version === true) {
    process.stdout.write(`${kind} kubeedge-ts ${VERSION} (node ${process.version})\n`);
    return undefined;
  }
  if (o.defaultconfig === true) {
    process.stdout.write(defaultConfigYaml(kind));
    return undefined;
  }
  if (o.minconfig === true) {
    process.stdout.write(minConfigYaml(kind));
    return undefined;
  }
  return o.config;
}

/** Stops the daemon on SIGTERM/SIGINT; a second signal forces the exit. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error during shutdown after ${sig}: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
