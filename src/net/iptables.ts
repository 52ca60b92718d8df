import { execFile } from 'node:child_process';
import { KubeEdgeError } from '../core/errors.ts';

/** iptables failures. Code: KE_IPTABLES (the iptables binary is missing, or refused a rule: no NET_ADMIN, bad spec). */
export class IptablesError extends KubeEdgeError {}

export type Table = 'nat' | 'filter' | 'mangle';

/**
 * Runs one iptables command. `-w` waits for the xtables lock instead of failing when kube-proxy or another
 * program holds it at the same moment.
 */
export function iptables(args: string[], bin = 'iptables'): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['-w', ...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new IptablesError('KE_IPTABLES', `${bin} is not installed`, { bin }, { cause: err }));
        return;
      }
      resolve({ ok: err === null, stderr: String(stderr).trim() });
    });
  });
}

async function must(args: string[], bin?: string): Promise<void> {
  const r = await iptables(args, bin);
  if (!r.ok) throw new IptablesError('KE_IPTABLES', `iptables ${args.join(' ')}: ${r.stderr}`, { args: args.join(' ') });
}

/**
 * One chain of ours in one table, reached by a jump at the head of each parent chain. Rules are appended and
 * deleted by their exact spec; `remove` takes out the jumps, the rules and the chain.
 */
export class OwnChain {
  readonly #table: Table;
  readonly #chain: string;
  readonly #parents: string[];
  readonly #bin: string | undefined;

  constructor(o: { table: Table; chain: string; parents: string[]; bin?: string }) {
    this.#table = o.table;
    this.#chain = o.chain;
    this.#parents = o.parents;
    this.#bin = o.bin;
  }

  /** Creates the chain empty (flushing what a crashed run left) and jumps to it from each parent once. */
  async ensure(): Promise<void> {
    const t = ['-t', this.#table];
    const made = await iptables([...t, '-N', this.#chain], this.#bin);
    if (!made.ok) await must([...t, '-F', this.#chain], this.#bin);
    for (const p of this.#parents) {
      if (!(await iptables([...t, '-C', p, '-j', this.#chain], this.#bin)).ok) await must([...t, '-I', p, '1', '-j', this.#chain], this.#bin);
    }
  }

  add(spec: string[]): Promise<void> {
    return must(['-t', this.#table, '-A', this.#chain, ...spec], this.#bin);
  }

  /** Deletes one rule; a rule already gone (someone flushed the chain) is not an error. */
  async delete(spec: string[]): Promise<boolean> {
    return (await iptables(['-t', this.#table, '-D', this.#chain, ...spec], this.#bin)).ok;
  }

  async remove(): Promise<void> {
    const t = ['-t', this.#table];
    for (const p of this.#parents) {
      while ((await iptables([...t, '-D', p, '-j', this.#chain], this.#bin)).ok) {
        /* every copy of the jump */
      }
    }
    await iptables([...t, '-F', this.#chain], this.#bin);
    await iptables([...t, '-X', this.#chain], this.#bin);
  }
}
