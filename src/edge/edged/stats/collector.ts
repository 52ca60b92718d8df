import type { Logger } from '../../../core/log.ts';
import { edgeMetrics } from '../../../metrics/edge.ts';
import { L_CONTAINER_NAME, L_MANAGED, L_POD_NAME, L_POD_NAMESPACE, L_POD_UID, SANDBOX_NAME } from '../pods/labels.ts';
import type { ContainerRuntime } from '../runtime/types.ts';
import { rateNanoCores } from './docker-stats.ts';
import { formatResourceMetrics, formatSummary } from './formats.ts';
import { readNodeUsage } from './proc.ts';
import type { ContainerReading, NodeUsage, PodUsage, StatsSample, StatsSource } from './types.ts';

/** metrics-server's resolution: the kubelet is scraped every 15 s. */
export const DEFAULT_STATS_INTERVAL_MS = 15_000;
const FIRST_SAMPLE_DELAY_MS = 2000;

export type StatsCollectorOptions = {
  runtime: ContainerRuntime;
  nodeName: string;
  /** Pods' root directory: its filesystem is the node's `fs`. */
  rootDirectory: string;
  intervalMs?: number;
  log: Logger;
  /** Each new sample (edged reports it to the cloud). */
  onSample?: (s: StatsSample) => void;
};

/**
 * Takes a usage sample on a timer (node CPU and memory from /proc, the pods' filesystem, each running
 * container's engine stats) and keeps the last one, which it serves as the kubelet's `/metrics/resource` and
 * `/stats/summary`. CPU rates come from the previous sample (or, for a new container, the engine's own pair).
 * With no pods a round is two /proc reads, a statfs and one list call.
 */
export class StatsCollector implements StatsSource {
  readonly #o: StatsCollectorOptions;
  #timer: NodeJS.Timeout | undefined;
  #first: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<StatsSample | undefined> | undefined;
  #last: StatsSample | undefined;
  #prevNode: { ns: number; at: number } | undefined;
  #prev = new Map<string, { ns: number; at: number }>();

  constructor(o: StatsCollectorOptions) {
    this.#o = o;
  }

  start(): void {
    // A CPU baseline now and the first sample a moment later, so the first report already carries node CPU rates.
    const at = Date.now();
    readNodeUsage(this.#o.rootDirectory).then(
      (n) => {
        this.#prevNode ??= { ns: n.usageCoreNanoSeconds, at };
      },
      () => undefined,
    );
    this.#first = setTimeout(() => void this.collect(), FIRST_SAMPLE_DELAY_MS);
    this.#first.unref();
    this.#timer = setInterval(() => void this.collect(), this.#o.intervalMs ?? DEFAULT_STATS_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#first);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  latest(): StatsSample | undefined {
    return this.#last;
  }

  resourceMetrics(): Promise<string> {
    return Promise.resolve(formatResourceMetrics(this.#last));
  }

  summary(): Promise<unknown> {
    return Promise.resolve(formatSummary(this.#last, this.#o.nodeName));
  }

  /** One round (joined when one is already running). Never throws: a failed round keeps the last sample. */
  collect(): Promise<StatsSample | undefined> {
    this.#running ??= this.#round()
      .then(
        (s) => {
          this.#last = s;
          edgeMetrics.statsCollections.inc({ outcome: 'ok' });
          if (!this.#stopped) this.#o.onSample?.(s);
          return s;
        },
        (err: unknown) => {
          edgeMetrics.statsCollections.inc({ outcome: 'error' });
          if (!this.#stopped) this.#o.log.warn({ err }, 'resource usage sample failed; keeping the last one');
          return this.#last;
        },
      )
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #round(): Promise<StatsSample> {
    const o = this.#o;
    const started = Date.now();
    const [node, containers] = await Promise.all([readNodeUsage(o.rootDirectory), o.runtime.list({ [L_MANAGED]: o.nodeName })]);
    const apps = containers.filter((c) => c.state === 'running' && c.labels[L_CONTAINER_NAME] !== SANDBOX_NAME);
    const readings = apps.length > 0 && o.runtime.containerStats !== undefined ? await o.runtime.containerStats(apps.map((c) => c.id)) : [];
    const byId = new Map(readings.map((r) => [r.id, r]));
    const pods = new Map<string, PodUsage>();
    const seen = new Map<string, { ns: number; at: number }>();
    for (const c of apps) {
      const r = byId.get(c.id);
      const uid = c.labels[L_POD_UID];
      if (r === undefined || uid === undefined) continue;
      seen.set(c.id, { ns: r.usageCoreNanoSeconds, at: r.at });
      let pod = pods.get(uid);
      if (pod === undefined) {
        pod = { namespace: c.labels[L_POD_NAMESPACE] ?? 'default', name: c.labels[L_POD_NAME] ?? '', uid, containers: [] };
        pods.set(uid, pod);
      }
      pod.containers.push({
        name: c.labels[L_CONTAINER_NAME] ?? c.name,
        usageCoreNanoSeconds: r.usageCoreNanoSeconds,
        ...this.#rate(this.#prev.get(c.id), r),
        workingSetBytes: r.workingSetBytes,
        usageBytes: r.usageBytes,
        ...(r.rssBytes !== undefined ? { rssBytes: r.rssBytes } : {}),
        startTime: c.startedAt ?? c.createdAt,
      });
    }
    this.#prev = seen; // containers that are gone are forgotten
    const nodeUsage: NodeUsage = { ...node };
    const prevNode = this.#prevNode;
    const rate = prevNode === undefined ? undefined : rateNanoCores(prevNode.ns, prevNode.at, node.usageCoreNanoSeconds, started);
    if (rate !== undefined) nodeUsage.usageNanoCores = rate;
    this.#prevNode = { ns: node.usageCoreNanoSeconds, at: started };
    return {
      nodeName: o.nodeName,
      timestamp: new Date(started).toISOString(),
      windowSeconds: prevNode === undefined ? 0 : Math.max(1, Math.round((started - prevNode.at) / 1000)),
      node: nodeUsage,
      pods: [...pods.values()],
    };
  }

  #rate(prev: { ns: number; at: number } | undefined, r: ContainerReading): { usageNanoCores?: number } {
    const ours = prev === undefined ? undefined : rateNanoCores(prev.ns, prev.at, r.usageCoreNanoSeconds, r.at);
    const v = ours ?? r.usageNanoCores;
    return v === undefined ? {} : { usageNanoCores: v };
  }
}
