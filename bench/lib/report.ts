import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { daemonsInfo, type DaemonsInfo } from './cloud.ts';
import { loadAverage, type Machine } from './machine.ts';

/** One printed line: a figure, its unit, and what qualifies it (errors, method). */
export type Row = { metric: string; value: string; note?: string };

export type BenchOutcome = {
  params: Record<string, unknown>;
  figures: Record<string, unknown>;
  /** Every error kind counted during the run; figures from a run with errors say so in their row note. */
  errors: Record<string, number>;
  rows: Row[];
  notes?: string[];
};

export type BenchResult = BenchOutcome & {
  name: string;
  title: string;
  profile: 'quick' | 'full';
  machine: Machine;
  /** What the benchmark's daemons ran from (the bundles unless --from-sources), with their Node flags. */
  daemons: DaemonsInfo;
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  startedAt: string;
  durationMs: number;
  status: 'ok' | 'failed';
  failure?: string;
};

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../results');

export function errorNote(errors: Record<string, number>): string {
  const e = Object.entries(errors).filter(([, n]) => n > 0);
  return e.length === 0 ? 'no errors' : `ERRORS: ${e.map(([k, n]) => `${k}=${n}`).join(', ')}`;
}

/** Runs one benchmark, timing it and noting the load average around it; a throw becomes a failed result. */
export async function runBench(
  name: string,
  title: string,
  profile: 'quick' | 'full',
  m: Machine,
  fn: (partial: BenchOutcome) => Promise<void>,
): Promise<BenchResult> {
  const loadBefore = loadAverage();
  const started = Date.now();
  const out: BenchOutcome = { params: {}, figures: {}, errors: {}, rows: [], notes: [] };
  let failure: string | undefined;
  try {
    await fn(out);
  } catch (err) {
    failure = err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  const res: BenchResult = {
    name,
    title,
    profile,
    machine: m,
    daemons: daemonsInfo(),
    loadBefore,
    loadAfter: loadAverage(),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    status: failure === undefined ? 'ok' : 'failed',
    ...(failure !== undefined ? { failure } : {}),
    ...out,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

const la = (l: [number, number, number]) => l.map((x) => x.toFixed(2)).join(' ');

/** The table every run prints: one block per benchmark, machine and load average in each header. */
export function table(results: BenchResult[]): string {
  const lines: string[] = [];
  const w1 = Math.max(30, ...results.flatMap((r) => r.rows.map((x) => x.metric.length)));
  const w2 = Math.max(12, ...results.flatMap((r) => r.rows.map((x) => x.value.length)));
  for (const r of results) {
    lines.push('');
    lines.push(
      `== ${r.title} [${r.name}, ${r.profile}] ${r.status === 'ok' ? '' : 'FAILED '}(${(r.durationMs / 1000).toFixed(1)} s; load avg ${la(r.loadBefore)} -> ${la(r.loadAfter)})`,
    );
    lines.push(`   ${errorNote(r.errors)}`);
    for (const x of r.rows) lines.push(`   ${x.metric.padEnd(w1)}  ${x.value.padStart(w2)}  ${x.note ?? ''}`.trimEnd());
    if (r.failure !== undefined) lines.push(`   failure: ${r.failure.split('\n')[0] ?? ''}`);
    for (const n of r.notes ?? []) lines.push(`   note: ${n}`);
  }
  return lines.join('\n');
}
