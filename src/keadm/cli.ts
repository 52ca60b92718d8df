import { Command, CommanderError } from 'commander';
import { describeError } from '../core/errors.ts';
import { VERSION } from '../version.ts';
import { getToken } from './gettoken.ts';
import { registerContainerCommands } from './commands.ts';
import { KeadmError } from './common.ts';

const DEFAULT_KUBECONFIG = process.env['KUBECONFIG'] ?? `${process.env['HOME'] ?? '/root'}/.kube/config`;

export function keadmProgram(): Command {
  const program = new Command('keadm')
    .description('Install, join and diagnose kubeedge-ts cloud and edge nodes')
    .version(`keadm kubeedge-ts ${VERSION} (node ${process.version})`, '--version', 'print the version')
    .showHelpAfterError();

  program
    .command('gettoken')
    .description('print the token edge nodes use to join the cloud')
    .option('--kube-config <file>', 'kubeconfig of the cluster cloudcore uses', DEFAULT_KUBECONFIG)
    .action(async (o: { kubeConfig: string }) => {
      process.stdout.write(`${await getToken({ kubeConfig: o.kubeConfig })}\n`);
    });

  registerContainerCommands(program);
  return program;
}

/** Runs keadm; exit code 1 for a failed command, 2 for a usage error. */
export async function runKeadm(argv: string[]): Promise<number> {
  const program = keadmProgram().exitOverride();
  try {
    process.exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    // doctor reports its verdict through the exit code
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`keadm: ${describeError(err)}\n`);
    return err instanceof KeadmError ? err.exitCode : 1;
  }
}
