// Issue 15's goals table: every row read from the figures of this run's results (bench/results/<name>.json), each
// beside its goal with the ratio figure/goal and pass / fail / not-run. `npm run bench` prints it after the
// per-benchmark table and writes bench/results/goals.json; `node bench/lib/goals.ts [--since ISO-time]` prints it
// again from the JSON files in bench/results.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage, machine, machineLine, type Machine } from './machine.ts';
import { RESULTS_DIR } from './report.ts';
import { fmt } from './stats.ts';

/** The parts of a BenchResult the goals read (a recorded JSON file has them all). */
export type ResultLike = {
  name: string;
  status: 'ok' | 'failed';
  profile?: string;
  failure?: string;
  startedAt?: string;
  loadBefore?: number[];
  loadAfter?: number[];
  params?: Record<string, unknown>;
  figures: Record<string, unknown>;
  errors?: Record<string, number>;
  daemons?: { source?: string; cloudcore?: string; edgecore?: string };
};

export type GoalStatus = 'pass' | 'fail' | 'not-run' | 'info';
export type Cmp = '<=' | '>=';

export type GoalRow = {
  row: string;
  /** In `unit`; null when not measured. */
  figure: number | null;
  unit: string;
  cmp: Cmp | null;
  goal: number | null;
  /** figure / goal (null without both, or with a goal of 0). */
  ratio: number | null;
  /** How the goal prints when it is not a plain number (the pod-start goal is relative to the floor). */
  goalText?: string;
  status: GoalStatus;
  /** Benchmark (results file) the figure comes from. */
  source: string;
  note: string;
};

type Results = ReadonlyMap<string, ResultLike>;

/** A finite number at `p` (dot path, numeric parts index arrays) in `o`, else undefined. JSON turns NaN into null. */
export function numberAt(o: unknown, p: string): number | undefined {
  let cur: unknown = o;
  for (const k of p.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
}

/** pass / fail of a figure against its goal. */
export function judge(figure: number, cmp: Cmp, goal: number): 'pass' | 'fail' {
  return (cmp === '<=' ? figure <= goal : figure >= goal) ? 'pass' : 'fail';
}

export function ratioOf(figure: number | null, goal: number | null): number | null {
  return figure === null || goal === null || goal === 0 ? null : figure / goal;
}

/** A row with a goal: judged when the figure is there; otherwise not-run (benchmark absent) or fail (it ran, no figure). */
function goalRow(
  r: ResultLike | undefined,
  source: string,
  row: string,
  unit: string,
  cmp: Cmp,
  goal: number,
  figure: number | undefined,
  note: string,
  missing?: { status: GoalStatus; why: string },
): GoalRow {
  const base = { row, unit, cmp, goal, source };
  if (r === undefined) return { ...base, figure: null, ratio: null, status: 'not-run', note: `${source} was not run in this run` };
  if (figure === undefined) {
    const why = missing?.why ?? (r.status === 'failed' ? `${source} failed: ${(r.failure ?? '').split('\n')[0]}` : `${source} has no such figure`);
    return { ...base, figure: null, ratio: null, status: missing?.status ?? 'fail', note: why };
  }
  return { ...base, figure, ratio: ratioOf(figure, goal), status: judge(figure, cmp, goal), note };
}

function infoRow(r: ResultLike | undefined, source: string, row: string, unit: string, figure: number | undefined, note: string): GoalRow {
  const base = { row, unit, cmp: null, goal: null, ratio: null, source };
  if (r === undefined) return { ...base, figure: null, status: 'not-run', note: `${source} was not run in this run` };
  return {
    ...base,
    figure: figure ?? null,
    status: 'info',
    note: figure === undefined ? `not measured${r.status === 'failed' ? ` (${source} failed)` : ''}` : note,
  };
}

/** A row measured from the sources (--from-sources) is shown but not judged: the goals are for the bundles. */
function bundledOnly(row: GoalRow, r: ResultLike | undefined): GoalRow {
  if (r === undefined || row.figure === null || r.daemons?.source !== 'sources') return row;
  return { ...row, status: 'not-run', note: `measured from the sources (--from-sources); the goal is for the bundle. ${row.note}` };
}

type Point = { pods: number; rssMiB: number; cpuPercent: number };
type Step = { n: number; allReadyMs?: number | null; ready?: number; usage?: { rssMiB?: number; cpuPercent?: number }; apiLatency?: { p99?: number | null } };

function edgecoreRows(res: Results): GoalRow[] {
  const src = 'edgecore-footprint';
  const r = res.get(src);
  const points = (r?.figures['points'] as Point[] | undefined) ?? [];
  const at = (pods: number) => points.find((p) => p.pods === pods);
  const idle = at(0);
  const bin = r?.daemons?.edgecore ?? 'edgecore';
  const win = numberAt(r?.params, 'idleWindowMs');
  const step = numberAt(r?.params, 'stepWindowMs');
  const rows = [
    goalRow(r, src, 'edgecore idle, no pods: RSS', 'MiB', '<=', 60, numberAt(idle, 'rssMiB'), `${bin} on the host, over ${fmt((win ?? Number.NaN) / 1000)} s`),
    goalRow(r, src, 'edgecore idle, no pods: CPU', '% of a core', '<=', 0.2, numberAt(idle, 'cpuPercent'), `${bin} on the host, same window`),
  ];
  const img = res.get('images');
  const c = img?.figures['edgecoreContainer'];
  const w = numberAt(c, 'windowMs');
  const short = w !== undefined && w < 179_000 ? ` (window only ${Math.round(w / 1000)} s; the goal is over 180 s)` : '';
  const ds = numberAt(c, 'dockerStatsMiBMax');
  rows.push(
    goalRow(
      img,
      'images',
      'edgecore idle in its container: RSS (max)',
      'MiB',
      '<=',
      60,
      numberAt(c, 'rssMiBMax'),
      `node process's VmRSS, max over ${w === undefined ? '?' : Math.round(w / 1000)} s (mean ${fmt(numberAt(c, 'rssMiBMean') ?? Number.NaN)}); docker stats max ${fmt(ds ?? Number.NaN)} MiB${short}`,
    ),
    goalRow(
      img,
      'images',
      'edgecore idle in its container: CPU',
      '% of a core',
      '<=',
      0.2,
      numberAt(c, 'cpuPct'),
      `the container's processes, same window (engine's accounting ${fmt(numberAt(c, 'dockerCpuPct') ?? Number.NaN, 2)} %)${short}`,
    ),
    infoRow(
      r,
      src,
      'edgecore with 20 pods: RSS',
      'MiB',
      numberAt(at(20), 'rssMiB'),
      `${bin}, 20 busybox pods Running, over ${fmt((step ?? Number.NaN) / 1000)} s`,
    ),
    goalRow(r, src, 'edgecore with 50 pods: RSS', 'MiB', '<=', 75, numberAt(at(50), 'rssMiB'), `${bin}, 50 busybox pods Running`, {
      status: r?.status === 'failed' ? 'fail' : points.length > 0 && Math.max(...points.map((p) => p.pods)) < 50 ? 'not-run' : 'fail',
      why: points.length > 0 ? `the ladder stopped at ${Math.max(...points.map((p) => p.pods))} pods` : 'no footprint points',
    }),
  );
  return rows.map((x) => (x.source === src ? bundledOnly(x, r) : x));
}

function podStartRows(res: Results): GoalRow[] {
  const src = 'pod-start';
  const r = res.get(src);
  const pods = numberAt(r?.params, 'pods') ?? 20;
  const label = `${pods} pods at once on one edge: all Running`;
  const all = numberAt(r?.figures, 'allRunningMs');
  const floor = numberAt(r?.figures, 'engineFloor.allRunningMs');
  if (r !== undefined && all !== undefined && floor === undefined) {
    return [
      bundledOnly(
        {
          row: label,
          figure: all / 1000,
          unit: 's',
          cmp: '<=',
          goal: null,
          ratio: null,
          goalText: '<= 1.5x floor',
          status: 'not-run',
          source: src,
          note: 'engine floor not measured in this run (no engineFloor in pod-start): the goal is 1.5x the floor',
        },
        r,
      ),
    ];
  }
  const goal = floor !== undefined ? (1.5 * floor) / 1000 : 0;
  const ratioToFloor = numberAt(r?.figures, 'ratioToFloor') ?? (all !== undefined && floor !== undefined ? all / floor : undefined);
  const method = (r?.figures['engineFloor'] as { method?: unknown; containers?: unknown } | undefined) ?? {};
  const note = `1.5x the engine floor ${fmt((floor ?? Number.NaN) / 1000, 2)} s (${String(method.containers ?? '?')} containers, ${String(method.method ?? 'same run')}); ${fmt(ratioToFloor ?? Number.NaN, 2)}x the floor${pods === 20 ? '' : '; the goal is stated for 20 pods'}`;
  const row = goalRow(r, src, label, 's', '<=', goal, all === undefined ? undefined : all / 1000, note);
  const relative = { goalText: floor === undefined ? '<= 1.5x floor' : `<= ${fmt(goal, 2)} s (1.5x floor)` };
  return [bundledOnly(floor === undefined ? { ...row, goal: null, ratio: null, ...relative } : { ...row, ...relative }, r)];
}

function cloudRows(res: Results): GoalRow[] {
  const src = 'edgemark';
  const r = res.get(src);
  const steps = (r?.figures['steps'] as Step[] | undefined) ?? [];
  const requested = (r?.params?.['steps'] as number[] | undefined) ?? [];
  const base = numberAt(r?.figures, 'baseline.rssMiB');
  const rows: GoalRow[] = [];
  const perNode = (s: Step | undefined) => {
    const rss = numberAt(s, 'usage.rssMiB');
    return rss !== undefined && base !== undefined && s !== undefined ? ((rss - base) * 1024) / s.n : undefined;
  };
  const s1k = steps.find((s) => s.n === 1000);
  const no1k = {
    status: 'not-run' as GoalStatus,
    why: requested.includes(1000) ? 'the ladder stopped before N=1000' : `no N=1000 step in this run (--n ${requested.join(',')})`,
  };
  const missing1k = s1k === undefined && r?.status !== 'failed' ? no1k : undefined;
  rows.push(
    goalRow(
      r,
      src,
      'cloudcore, 1000 idle edges: RSS per node above baseline',
      'KiB',
      '<=',
      64,
      perNode(s1k),
      `(RSS at N=1000 ${fmt(numberAt(s1k, 'usage.rssMiB') ?? Number.NaN)} MiB - baseline with no edges ${fmt(base ?? Number.NaN)} MiB) / 1000`,
      missing1k,
    ),
    goalRow(r, src, 'cloudcore, 1000 idle edges: CPU', '% of a core', '<=', 5, numberAt(s1k, 'usage.cpuPercent'), 'idle window after all Ready', missing1k),
    goalRow(
      r,
      src,
      'cloudcore, 1000 edges: all Ready after',
      's',
      '<=',
      10,
      s1k !== undefined && numberAt(s1k, 'allReadyMs') !== undefined ? (numberAt(s1k, 'allReadyMs') as number) / 1000 : undefined,
      'from the first dial to the last node Ready in the API',
      s1k !== undefined ? { status: 'fail', why: `not all Ready (${s1k.ready ?? '?'}/1000)` } : missing1k,
    ),
  );
  const want10k = requested.includes(10_000);
  const full = { status: 'not-run' as GoalStatus, why: 'full profile only (npm run bench -- --full, or --n with 10000)' };
  const held = numberAt(r?.figures, 'largestHeld');
  const s10k = steps.find((s) => s.n === 10_000);
  const breakReason = r?.figures['breakReason'];
  if (!want10k) {
    rows.push(
      {
        row: 'cloudcore, largest N held (all Ready)',
        figure: r === undefined ? null : (held ?? null),
        unit: 'nodes',
        cmp: '>=',
        goal: 10_000,
        ratio: null,
        status: 'not-run',
        source: src,
        note: `${full.why}${held !== undefined ? `; this run held ${held} (steps ${requested.join(',')})` : ''}`,
      },
      goalRow(r, src, 'cloudcore, 10000 edges: API p99', 'ms', '<=', 100, undefined, '', full),
    );
    return rows;
  }
  rows.push(
    goalRow(
      r,
      src,
      'cloudcore, largest N held (all Ready)',
      'nodes',
      '>=',
      10_000,
      held,
      typeof breakReason === 'string' ? `broke: ${breakReason}` : `steps ${requested.join(', ')}; all Ready at each`,
    ),
    goalRow(
      r,
      src,
      'cloudcore, 10000 edges: API p99',
      'ms',
      '<=',
      100,
      numberAt(s10k, 'apiLatency.p99'),
      'GET latency during the idle window (indirect event-loop lag)',
      {
        status: 'fail',
        why: 'the ladder did not hold N=10000',
      },
    ),
    infoRow(r, src, 'cloudcore, 10000 idle edges: RSS per node above baseline', 'KiB', perNode(s10k), 'no goal at 10000 (64 KiB at 1000)'),
    infoRow(r, src, 'cloudcore, 10000 idle edges: CPU', '% of a core', numberAt(s10k, 'usage.cpuPercent'), 'no goal at 10000 (5 % at 1000)'),
  );
  return rows;
}

function reconnectRows(res: Results): GoalRow[] {
  const src = 'reconnect';
  const r = res.get(src);
  const n = numberAt(r?.params, 'nodes') ?? 1000;
  const of = n === 1000 ? '' : ' (the goal is stated for 1000)';
  const ready = numberAt(r?.figures, 'allReadyInApiMs');
  const errs = r?.errors === undefined ? undefined : Object.values(r.errors).reduce((a, b) => a + b, 0);
  const named =
    r?.errors === undefined
      ? ''
      : Object.entries(r.errors)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
  return [
    goalRow(
      r,
      src,
      `cloudcore restart with ${n} edges: all Ready again`,
      's',
      '<=',
      10,
      ready === undefined ? undefined : ready / 1000,
      `from SIGTERM to every node Ready with a new heartbeat${of}`,
      {
        status: 'fail',
        why: r?.status === 'failed' ? `reconnect failed: ${(r.failure ?? '').split('\n')[0]}` : 'not all Ready again within the timeout',
      },
    ),
    goalRow(
      r,
      src,
      `cloudcore restart with ${n} edges: errors`,
      'errors',
      '<=',
      0,
      r?.status === 'failed' ? undefined : errs,
      named === '' ? `none${of}` : `${named}${of}`,
    ),
  ];
}

function fanoutRows(res: Results): GoalRow[] {
  const src = 'fanout';
  const r = res.get(src);
  const pods = numberAt(r?.params, 'pods') ?? 1000;
  const nodes = numberAt(r?.params, 'nodes') ?? 1000;
  const of = pods === 1000 && nodes === 1000 ? '' : ' (the goal is stated for 1000 over 1000)';
  const nAck = numberAt(r?.figures, 'createToEdgeMs.n');
  const nRun = numberAt(r?.figures, 'createToRunningMs.n');
  return [
    goalRow(
      r,
      src,
      `${pods} pods over ${nodes} edges: create -> edge ack p99`,
      'ms',
      '<=',
      300,
      numberAt(r?.figures, 'createToEdgeMs.p99'),
      `over ${nAck ?? '?'} pods${of}`,
    ),
    goalRow(
      r,
      src,
      `${pods} pods over ${nodes} edges: create -> Running p99`,
      'ms',
      '<=',
      600,
      numberAt(r?.figures, 'createToRunningMs.p99'),
      `over ${nRun ?? '?'} pods${of}`,
    ),
  ];
}

function cloudContainerRows(res: Results): GoalRow[] {
  const img = res.get('images');
  const c = img?.figures['cloudcoreContainer'];
  const w = numberAt(c, 'windowMs');
  return [
    infoRow(
      img,
      'images',
      'cloudcore idle in its container, one edge: RSS (max)',
      'MiB',
      numberAt(c, 'rssMiBMax'),
      `over ${w === undefined ? '?' : Math.round(w / 1000)} s; docker stats max ${fmt(numberAt(c, 'dockerStatsMiBMax') ?? Number.NaN)} MiB; no goal`,
    ),
    infoRow(img, 'images', 'cloudcore idle in its container: CPU', '% of a core', numberAt(c, 'cpuPct'), 'same window; no goal'),
  ];
}

/** Every row of issue 15's table, in its order, from the results of one run (by benchmark name). */
export function goalRows(results: Results): GoalRow[] {
  return [
    ...edgecoreRows(results),
    ...podStartRows(results),
    ...cloudRows(results),
    ...reconnectRows(results),
    ...fanoutRows(results),
    ...cloudContainerRows(results),
  ];
}

export function byName(list: readonly ResultLike[]): Map<string, ResultLike> {
  return new Map(list.map((r) => [r.name, r]));
}

const GOAL_TEXT: Record<Cmp, string> = { '<=': '<=', '>=': '>=' };

function value(v: number | null, unit: string): string {
  if (v === null) return '-';
  const digits = unit === '% of a core' ? 2 : unit === 's' ? 2 : 1;
  return `${fmt(v, digits)} ${unit === '% of a core' ? '%' : unit}`;
}

/** The printed table: row, figure, goal, ratio, status, note. */
export function goalsTable(rows: readonly GoalRow[]): string {
  const w = Math.max(...rows.map((r) => r.row.length));
  const fig = rows.map((r) => value(r.figure, r.unit));
  const goal = rows.map((r) => r.goalText ?? (r.cmp === null || r.goal === null ? '-' : `${GOAL_TEXT[r.cmp]} ${value(r.goal, r.unit)}`));
  const wf = Math.max(6, ...fig.map((x) => x.length));
  const wg = Math.max(4, ...goal.map((x) => x.length));
  const lines = [`   ${'row'.padEnd(w)}  ${'figure'.padStart(wf)}  ${'goal'.padStart(wg)}  ratio  status   note`];
  rows.forEach((r, i) => {
    const ratio = r.ratio === null ? '-' : `${r.ratio.toFixed(2)}`;
    lines.push(
      `   ${r.row.padEnd(w)}  ${(fig[i] ?? '').padStart(wf)}  ${(goal[i] ?? '').padStart(wg)}  ${ratio.padStart(5)}  ${r.status.toUpperCase().padEnd(7)}  ${r.note}`.trimEnd(),
    );
  });
  const count = (s: GoalStatus) => rows.filter((r) => r.status === s).length;
  lines.push(`   ${count('pass')} pass, ${count('fail')} fail, ${count('not-run')} not run (${count('info')} info rows without a goal)`);
  return lines.join('\n');
}

export type GoalsReport = {
  profile: string;
  generatedAt: string;
  machine: Machine;
  machineLine: string;
  loadAverage: number[];
  /** 1-minute load average around the benchmarks the rows come from: lowest and highest seen. */
  loadDuringRun: { min: number; max: number } | null;
  daemons: string;
  rows: GoalRow[];
};

export function goalsReport(list: readonly ResultLike[], profile: string, m: Machine = machine()): GoalsReport {
  const loads = list.flatMap((r) => [r.loadBefore?.[0], r.loadAfter?.[0]]).filter((x): x is number => typeof x === 'number');
  const sources = new Set(list.map((r) => r.daemons?.source).filter((s) => s !== undefined));
  return {
    profile,
    generatedAt: new Date().toISOString(),
    machine: m,
    machineLine: machineLine(m),
    loadAverage: loadAverage(),
    loadDuringRun: loads.length > 0 ? { min: Math.min(...loads), max: Math.max(...loads) } : null,
    daemons: sources.has('sources') ? 'from the sources (--from-sources)' : 'bundled (dist/*.mjs, as in the images)',
    rows: goalRows(byName(list)),
  };
}

/** Heading, table and the machine/load lines, as `npm run bench` prints them. */
export function printGoals(g: GoalsReport): string {
  const la = g.loadAverage.map((x) => x.toFixed(2)).join(' ');
  const during =
    g.loadDuringRun === null ? '' : `; 1-min load average during the benchmarks ${g.loadDuringRun.min.toFixed(2)}-${g.loadDuringRun.max.toFixed(2)}`;
  return [
    `\n== Goals (issue 15), ${g.profile} profile, daemons ${g.daemons}`,
    goalsTable(g.rows),
    `   machine: ${g.machineLine}`,
    `   load average now ${la}${during} (2 shared cores: figures are noisy)`,
  ].join('\n');
}

export function writeGoals(g: GoalsReport, dir: string = RESULTS_DIR): string {
  const file = path.join(dir, 'goals.json');
  writeFileSync(file, `${JSON.stringify(g, null, 2)}\n`);
  return file;
}

/** The results in `dir` (not goals.json), optionally only those started at or after `since`. */
export function loadResults(dir: string = RESULTS_DIR, since?: Date): ResultLike[] {
  const out: ResultLike[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f === 'goals.json') continue;
    try {
      const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ResultLike;
      if (typeof r.name !== 'string' || typeof r.figures !== 'object') continue;
      if (since !== undefined && (r.startedAt === undefined || Date.parse(r.startedAt) < since.getTime())) continue;
      out.push(r);
    } catch {
      /* not a result file */
    }
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { since: { type: 'string' }, dir: { type: 'string' } } });
  const list = loadResults(values.dir ?? RESULTS_DIR, values.since !== undefined ? new Date(values.since) : undefined);
  const profiles = new Set(list.map((r) => r.profile ?? '?'));
  const g = goalsReport(list, [...profiles].join('+') || 'no results');
  console.log(printGoals(g));
}
