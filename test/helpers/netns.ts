/**
 * Network namespaces a test creates (and deletes) so iptables rules and addresses never touch the host's: needs
 * root and `ip netns`. `run(ns, ...)` runs a command inside.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const name = `ke-probe-${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', name]).status !== 0) return false;
  const ok = spawnSync('ip', ['netns', 'exec', name, 'iptables-save', '-t', 'nat']).status === 0;
  spawnSync('ip', ['netns', 'del', name]);
  return ok;
}

export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function createNetns(prefix: string): string {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
}

export function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

/** The nat table without its comment and counter lines, for before/after comparisons. */
export function natRules(ns: string): string {
  return inNs(ns, 'iptables-save', ['-t', 'nat'])
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
    .join('\n');
}
