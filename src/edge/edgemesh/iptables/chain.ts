/**
 * EdgeMesh's own nat chain. PREROUTING (traffic from pods on the listen interface) and OUTPUT (host-network
 * processes) jump to it; it holds one DNAT per Service address and port, to that Service port's listener. Created at
 * start, rewritten whole on every change (one iptables-restore --noflush, atomic for the chain), removed at stop.
 * The chain is named after the node (`KE-MESH-<node>`) so several edges sharing one network namespace (keadm up)
 * keep apart; `keadm reset` removes every chain with our prefix.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../../core/log.ts';
import type { DnatRule } from '../proxy/proxy.ts';
import { type IptablesRunner, must } from './run.ts';

export const CHAIN_PREFIX = 'KE-MESH';
/** iptables' limit on a chain name. */
const MAX_CHAIN = 28;

export function chainName(nodeName: string): string {
  const clean = nodeName.replace(/[^A-Za-z0-9_.-]/g, '-');
  const full = `${CHAIN_PREFIX}-${clean}`;
  if (full.length <= MAX_CHAIN) return full;
  return `${CHAIN_PREFIX}-${createHash('sha256').update(nodeName).digest('hex').slice(0, 12)}`;
}

export type MeshChainOptions = { chain: string; listenInterface: string; run: IptablesRunner; log?: Logger };

export class MeshChain {
  #o: MeshChainOptions;

  constructor(o: MeshChainOptions) {
    this.#o = o;
  }

  get name(): string {
    return this.#o.chain;
  }

  /** Creates the (empty) chain and the two jumps; idempotent. */
  create(): void {
    const { run, chain } = this.#o;
    must(run, 'iptables-restore', ['-w', '--noflush'], `*nat\n:${chain} - [0:0]\nCOMMIT\n`);
    for (const j of this.#jumps()) if (run('iptables', ['-w', '-t', 'nat', '-C', ...j]).status !== 0) must(run, 'iptables', ['-w', '-t', 'nat', '-I', ...j]);
  }

  /** Replaces the chain's rules with `rules`. */
  apply(rules: readonly DnatRule[]): void {
    const { run, chain } = this.#o;
    const lines = ['*nat', `:${chain} - [0:0]`];
    for (const r of rules)
      lines.push(`-A ${chain} -d ${r.dest}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} -j DNAT --to-destination ${r.toIP}:${r.toPort}`);
    lines.push('COMMIT', '');
    must(run, 'iptables-restore', ['-w', '--noflush'], lines.join('\n'));
    this.#o.log?.debug({ chain, rules: rules.length }, 'EdgeMesh rules written');
  }

  /** Removes the jumps and the chain; never throws (it runs at stop), says what it could not remove. */
  remove(): string[] {
    return removeChain(this.#o.run, this.#o.chain);
  }

  #jumps(): string[][] {
    return [
      ['PREROUTING', '-i', this.#o.listenInterface, '-j', this.#o.chain],
      ['OUTPUT', '-j', this.#o.chain],
    ];
  }
}

/** Deletes every rule in nat that jumps to `chain`, then the chain. Returns the problems, one line each. */
export function removeChain(run: IptablesRunner, chain: string): string[] {
  const problems: string[] = [];
  const saved = run('iptables-save', ['-t', 'nat']);
  if (saved.status !== 0) return [`iptables-save -t nat failed: ${saved.stderr.trim().split('\n')[0] ?? ''}`];
  for (const line of saved.stdout.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m === null || m[1] === chain || !new RegExp(`-j ${reEscape(chain)}(\\s|$)`).test(m[2] ?? '')) continue;
    const r = run('iptables', ['-w', '-t', 'nat', '-D', m[1] ?? '', ...splitArgs(m[2] ?? '')]);
    if (r.status !== 0) problems.push(`cannot delete "${line}": ${r.stderr.trim()}`);
  }
  if (new RegExp(`^:${reEscape(chain)} `, 'm').test(saved.stdout)) {
    for (const args of [
      ['-F', chain],
      ['-X', chain],
    ]) {
      const r = run('iptables', ['-w', '-t', 'nat', ...args]);
      if (r.status !== 0) problems.push(`iptables -t nat ${args.join(' ')} failed: ${r.stderr.trim()}`);
    }
  }
  return problems;
}

/** Every nat chain of ours present now (for `keadm reset` and doctor). */
export function ourChains(run: IptablesRunner, prefixes: readonly string[] = [CHAIN_PREFIX]): string[] {
  const saved = run('iptables-save', ['-t', 'nat']);
  if (saved.status !== 0) return [];
  return saved.stdout
    .split('\n')
    .map((l) => /^:(\S+) /.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && prefixes.some((p) => c === p || c.startsWith(`${p}-`)));
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** iptables-save quotes only comments; our rules have none, but keep quoted words whole anyway. */
function splitArgs(s: string): string[] {
  return (s.match(/"[^"]*"|\S+/g) ?? []).map((w) => (w.startsWith('"') ? w.slice(1, -1) : w));
}
