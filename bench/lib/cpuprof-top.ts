// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --cpu-prof DIR`).
//   node bench/lib/cpuprof-top.ts <file.cpuprofile> [--top 25] [--from ms] [--to ms]
// Prints "% of samples  ms  file:line function" by self time, then by inclusive time for our own sources (src/),
// so a hot spot can be named with its share of the profile. --from/--to restrict to a window (ms since start).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type Hot = { key: string; samples: number; percent: number };

const ROOT = path.resolve(import.meta.dirname, '../..');

function label(cf: CallFrame): string {
  const file = cf.url === '' ? '' : cf.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
  const fn = cf.functionName === '' ? '(anonymous)' : cf.functionName;
  return file === '' ? fn : `${file}:${cf.lineNumber + 1} ${fn}`;
}

/** Self and inclusive sample counts per function (by file:line name), over an optional time window. */
export function topFunctions(p: Profile, o: { fromMs?: number; toMs?: number } = {}): { total: number; self: Hot[]; inclusive: Hot[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let t = 0;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += (p.timeDeltas[i] ?? 0) / 1000;
    if (o.fromMs !== undefined && t < o.fromMs) continue;
    if (o.toMs !== undefined && t > o.toMs) break;
    const node = byId.get(p.samples[i] as number);
    if (node === undefined) continue;
    total++;
    const k = label(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id);
      if (n === undefined) break;
      const key = label(n.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + 1);
    }
  }
  const rank = (m: Map<string, number>): Hot[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([key, samples]) => ({ key, samples, percent: total > 0 ? (samples * 100) / total : 0 }));
  return { total, self: rank(self), inclusive: rank(incl) };
}

if (import.meta.main) {
  const { values: a, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: node bench/lib/cpuprof-top.ts <file.cpuprofile> [--top N] [--from ms] [--to ms]\n');
    process.exit(2);
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const top = Number(a.top);
  const r = topFunctions(p, { ...(a.from !== undefined ? { fromMs: Number(a.from) } : {}), ...(a.to !== undefined ? { toMs: Number(a.to) } : {}) });
  const durS = (p.endTime - p.startTime) / 1e6;
  console.log(`${file}: ${r.total} samples over ${durS.toFixed(1)} s`);
  console.log('self time:');
  for (const h of r.self.slice(0, top)) console.log(`  ${h.percent.toFixed(1).padStart(5)} %  ${String(h.samples).padStart(6)}  ${h.key}`);
  console.log('inclusive time, our sources (src/):');
  for (const h of r.inclusive.filter((x) => x.key.startsWith('src/')).slice(0, top))
    console.log(`  ${h.percent.toFixed(1).padStart(5)} %  ${String(h.samples).padStart(6)}  ${h.key}`);
}
