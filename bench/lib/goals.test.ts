// The goals table's pure parts on recorded results (bench/lib/goals-fixtures/quick: result files this bench wrote
// on the development VM, copied as written: edgemark, fanout, reconnect, pod-start and edgecore-footprint from quick
// runs, images from a trial with a 20 s window): figure extraction, pass/fail, not-run.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { byName, goalRows, goalsTable, judge, loadResults, numberAt, ratioOf, type GoalRow, type ResultLike } from './goals.ts';

const FIXTURES = path.join(import.meta.dirname, 'goals-fixtures', 'quick');
const recorded = (): ResultLike[] => loadResults(FIXTURES);
const named = (list: ResultLike[], name: string): ResultLike => {
  const r = list.find((x) => x.name === name);
  assert.ok(r, `fixture ${name}`);
  return r;
};
const row = (rows: GoalRow[], start: string): GoalRow => {
  const r = rows.find((x) => x.row.startsWith(start));
  assert.ok(r, `row ${start}`);
  return r;
};
/** A copy with changes, as a later run would record it. */
const edit = (r: ResultLike, f: (x: ResultLike) => void): ResultLike => {
  const c = structuredClone(r);
  f(c);
  return c;
};

test('numberAt follows dot paths into objects and arrays and gives undefined for null (JSON NaN), strings and gaps', () => {
  const o = { a: { b: [{ c: 3 }], n: null, s: '4' } };
  assert.equal(numberAt(o, 'a.b.0.c'), 3);
  assert.equal(numberAt(o, 'a.n'), undefined);
  assert.equal(numberAt(o, 'a.s'), undefined);
  assert.equal(numberAt(o, 'a.x.y'), undefined);
  assert.equal(numberAt(undefined, 'a'), undefined);
});

test('judge compares in the goal direction, the ratio is figure / goal (none for a goal of 0)', () => {
  assert.equal(judge(60, '<=', 60), 'pass');
  assert.equal(judge(60.1, '<=', 60), 'fail');
  assert.equal(judge(10_000, '>=', 10_000), 'pass');
  assert.equal(judge(5000, '>=', 10_000), 'fail');
  assert.equal(ratioOf(30, 60), 0.5);
  assert.equal(ratioOf(0, 0), null);
  assert.equal(ratioOf(null, 60), null);
});

test('no results: every row of the issue is printed, none judged', () => {
  const rows = goalRows(new Map());
  assert.equal(rows.length, 18);
  for (const r of rows) assert.equal(r.status, 'not-run', r.row);
  assert.match(row(rows, 'cloudcore, largest N').note, /full profile only/);
  assert.match(row(rows, 'edgecore idle, no pods: RSS').note, /edgecore-footprint was not run/);
});

test('a recorded quick run: cloud figures are read from edgemark, fanout and reconnect and judged against the goals', () => {
  const list = recorded();
  const rows = goalRows(byName(list));
  const em = named(list, 'edgemark');
  const step = (em.figures['steps'] as Array<{ n: number; usage: { rssMiB: number; cpuPercent: number }; allReadyMs: number }>)[0];
  assert.ok(step);
  const base = numberAt(em.figures, 'baseline.rssMiB') as number;
  const perNode = row(rows, 'cloudcore, 1000 idle edges: RSS per node');
  assert.equal(perNode.figure, ((step.usage.rssMiB - base) * 1024) / 1000);
  assert.equal(perNode.goal, 64);
  assert.equal(perNode.status, (perNode.figure as number) <= 64 ? 'pass' : 'fail');
  assert.equal(row(rows, 'cloudcore, 1000 idle edges: CPU').figure, step.usage.cpuPercent);
  const ready = row(rows, 'cloudcore, 1000 edges: all Ready');
  assert.equal(ready.figure, step.allReadyMs / 1000);
  assert.equal(ready.ratio, step.allReadyMs / 1000 / 10);
  // The quick profile has no 10,000 step: those rows say where they come from.
  for (const r of [row(rows, 'cloudcore, largest N'), row(rows, 'cloudcore, 10000 edges: API p99')]) {
    assert.equal(r.status, 'not-run');
    assert.match(r.note, /full profile only/);
  }
  const fan = named(list, 'fanout');
  const ack = row(rows, '1000 pods over 1000 edges: create -> edge ack p99');
  assert.equal(ack.figure, numberAt(fan.figures, 'createToEdgeMs.p99'));
  assert.equal(ack.status, (ack.figure as number) <= 300 ? 'pass' : 'fail');
  assert.equal(row(rows, '1000 pods over 1000 edges: create -> Running p99').figure, numberAt(fan.figures, 'createToRunningMs.p99'));
  const rc = named(list, 'reconnect');
  const again = row(rows, 'cloudcore restart with 1000 edges: all Ready again');
  assert.equal(again.figure, (numberAt(rc.figures, 'allReadyInApiMs') as number) / 1000);
  const errs = row(rows, 'cloudcore restart with 1000 edges: errors');
  assert.equal(errs.figure, 0);
  assert.equal(errs.status, 'pass');
  assert.equal(errs.ratio, null);
});

test('a recorded quick run: edgecore rows from the footprint ladder and the container window, pod start against the floor', () => {
  const list = recorded();
  const rows = goalRows(byName(list));
  const fp = named(list, 'edgecore-footprint');
  const points = fp.figures['points'] as Array<{ pods: number; rssMiB: number; cpuPercent: number }>;
  const idle = row(rows, 'edgecore idle, no pods: RSS');
  assert.equal(idle.figure, points.find((p) => p.pods === 0)?.rssMiB);
  assert.equal(idle.status, (idle.figure as number) <= 60 ? 'pass' : 'fail');
  assert.match(idle.note, /dist\/edgecore\.mjs/, 'says the bundle was measured');
  assert.equal(row(rows, 'edgecore with 20 pods').status, 'info');
  assert.equal(row(rows, 'edgecore with 20 pods').figure, points.find((p) => p.pods === 20)?.rssMiB);
  assert.equal(row(rows, 'edgecore with 50 pods').figure, points.find((p) => p.pods === 50)?.rssMiB);
  const img = named(list, 'images');
  const inImage = row(rows, 'edgecore idle in its container: RSS');
  assert.equal(inImage.figure, numberAt(img.figures, 'edgecoreContainer.rssMiBMax'));
  // That recording was a trial with a 20 s window: the row says the goal is over 180 s.
  assert.match(inImage.note, /window only 20 s; the goal is over 180 s/);
  assert.equal(row(rows, 'edgecore idle in its container: CPU').figure, numberAt(img.figures, 'edgecoreContainer.cpuPct'));
  assert.equal(row(rows, 'cloudcore idle in its container').status, 'info');
});

test('pod start without an engine floor is not judged; with one, the goal is 1.5x the floor of the same run', () => {
  const list = recorded();
  const ps = named(list, 'pod-start');
  const all = numberAt(ps.figures, 'allRunningMs') as number;
  const without = edit(ps, (x) => {
    delete x.figures['engineFloor'];
    delete x.figures['ratioToFloor'];
  });
  const r0 = row(goalRows(byName([without])), '20 pods at once');
  assert.equal(r0.status, 'not-run');
  assert.equal(r0.figure, all / 1000);
  assert.match(r0.note, /engine floor not measured/);
  assert.equal(r0.goalText, '<= 1.5x floor');
  for (const floorMs of [all, all / 2]) {
    const withFloor = edit(ps, (x) => {
      x.figures['engineFloor'] = { allRunningMs: floorMs, p50Ms: floorMs / 2, p99Ms: floorMs, containers: 20, method: 'docker run -d x20' };
      x.figures['ratioToFloor'] = all / floorMs;
    });
    const r = row(goalRows(byName([withFloor])), '20 pods at once');
    assert.equal(r.goal, (1.5 * floorMs) / 1000);
    assert.equal(r.status, all <= 1.5 * floorMs ? 'pass' : 'fail');
    assert.match(r.note, /20 containers, docker run -d x20/);
  }
});

test('daemons run from the sources are shown but not judged: the goals are for the bundles', () => {
  const fp = edit(named(recorded(), 'edgecore-footprint'), (x) => {
    x.daemons = { source: 'sources', cloudcore: 'src/cmd/cloudcore.ts', edgecore: 'src/cmd/edgecore.ts' };
  });
  const r = row(goalRows(byName([fp])), 'edgecore idle, no pods: RSS');
  assert.equal(r.status, 'not-run');
  assert.notEqual(r.figure, null);
  assert.match(r.note, /--from-sources/);
});

test('a benchmark that failed fails its rows with the first line of its failure', () => {
  const fan = edit(named(recorded(), 'fanout'), (x) => {
    x.status = 'failed';
    x.failure = 'Error: cloudcore exited\n    at stack';
    x.figures = {};
  });
  const r = row(goalRows(byName([fan])), '1000 pods over 1000 edges: create -> edge ack');
  assert.equal(r.status, 'fail');
  assert.equal(r.note, 'fanout failed: Error: cloudcore exited');
});

test('a full-profile ladder to 10,000 is judged: held, API p99, and per-node figures at 10,000 printed', () => {
  const em = named(recorded(), 'edgemark');
  const steps = em.figures['steps'] as Array<Record<string, unknown>>;
  const full = edit(em, (x) => {
    const s1k = steps[0] as Record<string, unknown>;
    const s10k = { ...structuredClone(s1k), n: 10_000, ready: 10_000, apiLatency: { p99: 80 }, usage: { rssMiB: 900, cpuPercent: 30 } };
    x.params = { ...x.params, steps: [100, 1000, 5000, 10_000] };
    x.figures['steps'] = [s1k, s10k];
    x.figures['largestHeld'] = 10_000;
  });
  const rows = goalRows(byName([full]));
  const held = row(rows, 'cloudcore, largest N');
  assert.equal(held.figure, 10_000);
  assert.equal(held.status, 'pass');
  assert.equal(held.ratio, 1);
  assert.equal(row(rows, 'cloudcore, 10000 edges: API p99').status, 'pass');
  const base = numberAt(em.figures, 'baseline.rssMiB') as number;
  assert.equal(row(rows, 'cloudcore, 10000 idle edges: RSS per node').figure, ((900 - base) * 1024) / 10_000);
  assert.equal(row(rows, 'cloudcore, 10000 idle edges: CPU').status, 'info');
  const broke = edit(full, (x) => {
    x.figures['largestHeld'] = 5000;
    x.figures['steps'] = [steps[0]];
    x.figures['breakReason'] = 'N=10000: memory';
  });
  const b = goalRows(byName([broke]));
  assert.equal(row(b, 'cloudcore, largest N').status, 'fail');
  assert.match(row(b, 'cloudcore, largest N').note, /broke: N=10000: memory/);
  assert.equal(row(b, 'cloudcore, 10000 edges: API p99').status, 'fail');
});

test('the printed table has one line per row and the pass/fail count', () => {
  const rows = goalRows(byName(recorded()));
  const text = goalsTable(rows);
  const lines = text.split('\n');
  assert.equal(lines.length, rows.length + 2);
  assert.match(lines[lines.length - 1] ?? '', /^ {3}\d+ pass, \d+ fail, \d+ not run \(\d+ info rows without a goal\)$/);
  assert.match(text, /cloudcore, 1000 idle edges: RSS per node above baseline +[\d.]+ KiB +<= 64 KiB +[\d.]+ {2}(PASS|FAIL)/);
});
