import { describeError } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import { loadOrExit } from '../config/index.ts';
import { onShutdownSignal, parseDaemonArgs } from './daemon-cli.ts';

const configPath = parseDaemonArgs('edgecore', process.argv.slice(2), 'kubeedge-ts edge daemon: EdgeHub, MetaManager and Edged');
if (configPath !== undefined) {
  const { config, warnings } = loadOrExit('edgecore', configPath);
  const log = logger('edgecore');
  for (const w of warnings) log.warn(`config ${configPath}: ${w}`);
  try {
    const { startEdgeCore } = await import('../edge/edgecore.ts');
    const core = await startEdgeCore(config);
    onShutdownSignal(() => core.stop());
  } catch (err) {
    // One plain line an operator reads at once; the JSON log above has the steps that led here.
    process.stderr.write(`edgecore: ${describeError(err)}\n`);
    process.exit(1);
  }
}
