import type { Bus } from '../../core/bus.ts';
import type { Logger } from '../../core/log.ts';
import { Operation, parseResource, type Message } from '../../core/message.ts';
import type { Module, ModuleContext } from '../../core/module.ts';
import { cloudMetrics } from '../../metrics/cloud.ts';
import { CloudModules } from '../common/modules.ts';
import { parseSample, type NodeUsageStore } from './store.ts';

/** The resource type edges report usage under (`<ns>/nodemetrics/<node>`, see edged/stats/report.ts). */
export const NODE_METRICS_TYPE = 'nodemetrics';

/**
 * EdgeMetrics (`edgemetrics`, kubeedge-ts's own): keeps each node's last usage sample, which the embedded API
 * server serves as metrics.k8s.io. The node is the one whose session brought the sample (CloudHub's prefix),
 * never what the content claims.
 */
export class EdgeMetrics implements Module {
  readonly name = CloudModules.edgeMetrics;
  readonly group = CloudModules.edgeMetrics;
  readonly enabled = true;
  readonly #store: NodeUsageStore;
  #bus: Bus | undefined;
  #log: Logger | undefined;
  #rejected = 0;

  constructor(store: NodeUsageStore) {
    this.#store = store;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.#bus = ctx.bus;
    this.#log = ctx.log;
    ctx.bus.register(this.name, this.group, (m) => this.#onMessage(m));
  }

  async stop(): Promise<void> {
    this.#bus?.unregister(this.name);
  }

  #onMessage(m: Message): void {
    const match = /^node\/([^/]+)\/(.*)$/.exec(m.route.resource ?? '');
    const nodeName = match?.[1];
    if (nodeName === undefined || match?.[2] === undefined) return;
    if (parseResource(match[2]).type !== NODE_METRICS_TYPE || m.route.operation !== Operation.update) return;
    const s = parseSample(nodeName, m.content);
    if (s === undefined) {
      this.#rejected++;
      this.#log?.warn({ node: nodeName, rejected: this.#rejected }, 'malformed usage sample from edge dropped');
      return;
    }
    cloudMetrics.nodeMetricsReports.inc();
    this.#store.put(s);
  }
}
