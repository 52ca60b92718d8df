import type { Rng } from './rng.ts';
import { sleep } from './sh.ts';

export const FAULT_KINDS = ['kill-cloudcore', 'restart-apiserver', 'kill-edgecore', 'cut-link', 'fill-disk', 'corrupt-wal'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultRecord = { kind: FaultKind; target: string; at: number; detail: string };

/** What every fault stream writes to: counts by kind and a log line per fault (printed with --verbose). */
export class FaultLog {
  readonly records: FaultRecord[] = [];
  readonly #t0 = Date.now();
  readonly #verbose: boolean;

  constructor(verbose: boolean) {
    this.#verbose = verbose;
  }

  add(kind: FaultKind, target: string, detail = ''): void {
    const r = { kind, target, at: Date.now() - this.#t0, detail };
    this.records.push(r);
    if (this.#verbose) console.log(`  +${(r.at / 1000).toFixed(1)}s ${kind} ${target} ${detail}`);
  }

  count(kind: FaultKind): number {
    return this.records.filter((r) => r.kind === kind).length;
  }
}

/**
 * One fault stream: `plan` (kinds in a seeded order) run one after another on one target, each after a seeded
 * pause of `gapMs`; `inject` does the fault and its repair. Streams on different targets run side by side, so
 * faults overlap (cloudcore killed while an edge's link is cut and its disk is full) as they would in the field.
 */
export async function runStream<K extends FaultKind>(
  rng: Rng,
  plan: K[],
  gapMs: [number, number],
  inject: (kind: K, rng: Rng) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  for (const kind of plan) {
    if (stopped()) return;
    await sleep(rng.int(gapMs[0], gapMs[1]));
    await inject(kind, rng);
  }
}

/** `perKind` of each kind, in a seeded order. */
export function plan<K extends FaultKind>(rng: Rng, kinds: K[], perKind: number): K[] {
  return rng.shuffle(kinds.flatMap((k) => Array.from({ length: perKind }, () => k)));
}
