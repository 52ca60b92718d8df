// `npm run fuzz -- --seconds 300 [--target a,b] [--seed n] [--per-input-ms n]`: property-based fuzzing of every
// input a daemon takes from outside (WebSocket frames and messages, configs, API requests, certificate
// requests). The seconds are split over the targets; the seed is printed so a run can be repeated exactly, and a
// failure prints fast-check's shrunk counterexample. Exit 1 when anything crashed, hung or answered wrongly.
import { parseArgs } from 'node:util';
import { runTarget, type AnyTarget, type TargetResult } from './lib/harness.ts';
import { TARGETS } from './targets/index.ts';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string' },
    seed: { type: 'string' },
    'per-input-ms': { type: 'string', default: '10000' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help || a.list) {
  process.stdout.write(`npm run fuzz [-- options]
  --seconds S       total time, split evenly over the targets (default 60)
  --target a,b      only these targets
  --seed N          fast-check seed (default: random, printed)
  --per-input-ms N  an input taking longer is a hang (default 10000)
targets:
${TARGETS.map((t) => `  ${t.name.padEnd(18)} ${t.describe}`).join('\n')}
`);
  process.exit(0);
}

const wanted = a.target?.split(',').map((s) => s.trim());
const unknown = wanted?.filter((w) => !TARGETS.some((t) => t.name === w)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown target ${unknown.join(', ')}; --list names them\n`);
  process.exit(2);
}
const targets: AnyTarget[] = wanted === undefined ? [...TARGETS] : TARGETS.filter((t) => wanted.includes(t.name));
const seed = a.seed !== undefined ? Number(a.seed) : Math.floor(Math.random() * 2 ** 31);
const totalMs = Number(a.seconds) * 1000;
const perTargetMs = Math.max(1000, Math.floor(totalMs / targets.length));
const perInputMs = Number(a['per-input-ms']);
console.log(`fuzz: seed ${seed}, ${targets.length} targets, ${Math.round(perTargetMs / 1000)} s each, an input over ${perInputMs} ms is a hang`);

const results: TargetResult[] = [];
for (const t of targets) {
  const r = await runTarget(t, { seed, ms: perTargetMs, perInputMs });
  results.push(r);
  const verdict = r.counterexample === undefined ? 'ok' : 'FAILED';
  console.log(`${t.name.padEnd(18)} ${String(r.runs).padStart(7)} inputs  ${r.crashes} crashes  ${r.hangs} hangs  ${r.wrongAnswers} wrong answers  ${verdict}`);
  if (r.counterexample !== undefined) {
    console.log(`  ${r.error ?? ''}`.split('\n').slice(0, 12).join('\n'));
    console.log(`  shrunk input: ${r.counterexample}`);
    console.log(`  repeat: npm run fuzz -- --target ${t.name} --seed ${seed} --seconds ${Math.round(perTargetMs / 1000)}`);
  }
}
const sum = (k: 'crashes' | 'hangs' | 'wrongAnswers') => results.reduce((n, r) => n + r[k], 0);
const inputs = results.reduce((n, r) => n + r.runs, 0);
console.log(`fuzz: ${inputs} inputs, ${sum('crashes')} crashes, ${sum('hangs')} hangs, ${sum('wrongAnswers')} wrong answers (seed ${seed})`);
// Servers and sockets of the targets are closed; exit explicitly so a lingering handle of a broken target cannot hang the run.
process.exit(sum('crashes') + sum('hangs') + sum('wrongAnswers') > 0 ? 1 : 0);
