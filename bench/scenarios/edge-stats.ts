import { DockerClient } from '../../src/containers/index.ts';
import { logger } from '../../src/core/log.ts';
import { StatsCollector } from '../../src/edge/edged/stats/collector.ts';
import { formatResourceMetrics } from '../../src/edge/edged/stats/formats.ts';
import { DockerRuntime } from '../../src/edge/edged/runtime/docker/runtime.ts';
import { edgeRegistry } from '../../src/metrics/edge.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, summarize } from '../lib/stats.ts';

const NODE = 'bench-stats';
const BUSYBOX_IMAGE = 'local/busybox:1';

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * What edged's 15-s usage sampling costs on Docker: the time of one round (/proc, statfs, one list and one stats
 * call per running container) with no pods and with `containers` running, and of a /metrics scrape.
 */
export async function edgeStatsBench(o: { containers: number; rounds: number; rootDirectory: string }, out: BenchOutcome): Promise<void> {
  out.params = { containers: o.containers, rounds: o.rounds };
  const docker = new DockerClient();
  const runtime = new DockerRuntime(docker);
  const log = logger('bench-stats');
  log.level = 'error';
  const collector = new StatsCollector({ runtime, nodeName: NODE, rootDirectory: o.rootDirectory, log });
  const ids: string[] = [];
  try {
    const idle: number[] = [];
    for (let i = 0; i < o.rounds; i++) idle.push(await timed(() => collector.collect()));
    for (let i = 0; i < o.containers; i++) {
      const { Id } = await docker.createContainer(`bench-stats-${process.pid}-${i}`, {
        Image: BUSYBOX_IMAGE,
        Cmd: ['sleep', '3600'],
        Labels: {
          'io.kubernetes.pod.name': `p${i}`,
          'io.kubernetes.pod.namespace': 'bench',
          'io.kubernetes.pod.uid': `uid-${i}`,
          'io.kubernetes.container.name': 'c',
          'io.kubeedge-ts.node': NODE,
        },
      });
      ids.push(Id);
      await docker.startContainer(Id);
    }
    const busy: number[] = [];
    let pods = 0;
    for (let i = 0; i < o.rounds; i++) {
      busy.push(await timed(async () => (pods = (await collector.collect())?.pods.length ?? 0)));
    }
    if (pods !== o.containers) out.errors['pods missing from a sample'] = o.containers - pods;
    const text: number[] = [];
    for (let i = 0; i < 20; i++) text.push(await timed(() => Promise.resolve(formatResourceMetrics(collector.latest()))));
    const scrape: number[] = [];
    for (let i = 0; i < 20; i++) scrape.push(await timed(() => edgeRegistry.metrics()));
    const [si, sb, st, ss] = [summarize(idle), summarize(busy), summarize(text), summarize(scrape)];
    out.figures = { idleRoundMs: si, busyRoundMs: sb, resourceMetricsMs: st, scrapeMs: ss };
    out.rows.push(
      { metric: 'sample round, no pods (ms)', value: `p50 ${fmt(si.p50)} / max ${fmt(si.max)}` },
      {
        metric: `sample round, ${o.containers} running containers (ms)`,
        value: `p50 ${fmt(sb.p50)} / max ${fmt(sb.max)}`,
        note: "Docker's one-shot stats wait for a second reading (about 1 s); calls run in parallel",
      },
      { metric: '/metrics/resource text of that sample (ms)', value: `p50 ${fmt(st.p50, 2)}` },
      { metric: 'edgecore /metrics scrape (ms)', value: `p50 ${fmt(ss.p50, 2)}` },
    );
  } finally {
    collector.stop();
    await Promise.all(ids.map((id) => docker.removeContainer(id, { force: true }).catch(() => undefined)));
  }
}
