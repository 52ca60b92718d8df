import { describeError } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import { loadOrExit } from '../config/index.ts';
import { onShutdownSignal, parseDaemonArgs } from './daemon-cli.ts';

const configPath = parseDaemonArgs('cloudcore', process.argv.slice(2), 'kubeedge-ts cloud daemon: CloudHub, EdgeController and the certificate service');
if (configPath !== undefined) {
  const { config, warnings } = loadOrExit('cloudcore', configPath);
  const log = logger('cloudcore');
  for (const w of warnings) log.warn(`config ${configPath}: ${w}`);
  try {
    // Loaded only when the daemon really starts: --version and a bad config answer at once.
    const { startCloudCore } = await import('../cloud/cloudcore.ts');
    const core = await startCloudCore(config);
    onShutdownSignal(() => core.stop());
  } catch (err) {
    // One plain line an operator reads at once; the JSON log above has the steps that led here.
    process.stderr.write(`cloudcore: ${describeError(err)}\n`);
    process.exit(1);
  }
}
