import path from 'node:path';
import { Command } from 'commander';
import { describeError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import { VERSION } from '../../version.ts';
import { Mapper } from './mapper.ts';
import type { Driver } from './types.ts';

export const DEFAULT_EDGECORE_SOCK = '/etc/kubeedge/dmi.sock';

/** The mapper binaries' command line: where edgecore's DMI socket is and where to put our own. */
export async function runMapperCli(driver: Driver, argv: string[]): Promise<void> {
  const kind = `mapper-${driver.protocol}`;
  const program = new Command(kind)
    .description(`kubeedge-ts ${driver.protocol} mapper: devices of protocol ${driver.protocol} over KubeEdge's DMI v1beta1`)
    .option('--edgecore-sock <path>', "edgecore's DMI socket (modules.deviceTwin.dmiSockPath)", DEFAULT_EDGECORE_SOCK)
    .option('--sock <path>', "this mapper's own DMI socket (default: beside edgecore's, named after the protocol)")
    .option('--name <name>', 'the mapper name edgecore registers', `${driver.protocol}-mapper`)
    .option('--version', 'print the version and exit')
    .allowExcessArguments(false)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ edgecoreSock: string; sock?: string; name: string; version?: boolean }>();
  if (o.version === true) {
    process.stdout.write(`${kind} kubeedge-ts ${VERSION} (node ${process.version})\n`);
    return;
  }
  const sockPath = o.sock ?? path.join(path.dirname(o.edgecoreSock), `${kind}.sock`);
  const log = logger(kind);
  const mapper = new Mapper({ driver, name: o.name, version: VERSION, edgecoreSock: o.edgecoreSock, sockPath, log });
  try {
    await mapper.start();
  } catch (err) {
    process.stderr.write(`${kind}: ${describeError(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    mapper.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
