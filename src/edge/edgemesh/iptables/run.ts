/**
 * Running iptables: `-w` everywhere (several edges may share a network namespace and its xtables lock), batches
 * through iptables-restore. `prefix` runs the commands elsewhere (`ip netns exec NS`), which is how the tests
 * exercise real rules without touching the host's tables.
 */
import { spawnSync } from 'node:child_process';
import { KubeEdgeError } from '../../../core/errors.ts';

export type IptablesResult = { status: number; stdout: string; stderr: string };
export type IptablesRunner = (cmd: 'iptables' | 'iptables-save' | 'iptables-restore', args: string[], input?: string) => IptablesResult;

export class IptablesError extends KubeEdgeError {
  constructor(what: string, why: string, context: Record<string, unknown> = {}) {
    const fix = /denied|permitted|must be root/i.test(why)
      ? '; run the container with --cap-add NET_ADMIN --cap-add NET_RAW'
      : /not found|ENOENT/i.test(why)
        ? '; install iptables (the kubeedge-ts edge image has it)'
        : '';
    super('KE_EDGEMESH_IPTABLES', `${what} failed: ${why}${fix}`, context);
  }
}

export function commandRunner(prefix: readonly string[] = []): IptablesRunner {
  return (cmd, args, input) => {
    const [bin, ...rest] = [...prefix, cmd, ...args] as [string, ...string[]];
    const r = spawnSync(bin, rest, { encoding: 'utf8', input, timeout: 30_000 });
    if (r.error !== undefined)
      return { status: 127, stdout: '', stderr: `${cmd}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}` };
    return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
}

/** Runs and throws a one-line IptablesError on failure. */
export function must(run: IptablesRunner, cmd: 'iptables' | 'iptables-save' | 'iptables-restore', args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.status}`;
    throw new IptablesError(`${cmd} ${args.join(' ')}`.trim(), why, { status: r.status });
  }
  return r.stdout;
}
