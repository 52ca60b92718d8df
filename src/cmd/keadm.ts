import { runKeadm } from '../keadm/cli.ts';

process.exitCode = await runKeadm(process.argv.slice(2));
