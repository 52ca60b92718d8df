import { newMessage } from '../../src/core/message.ts';
import type { SimNode } from './sim-node.ts';

/**
 * Device twin reports from simulated nodes, as KubeEdge v1.15's DeviceTwin sends a mapper's readings to the cloud
 * (`device/<id>/twin/edge_updated`, op `update`, a `DeviceTwinResult`). Each node sends its devices' reports
 * together once per period (phases spread over the period). The value's `metadata.timestamp` is the send time, so
 * the cloud's status write (which keeps the timestamp of the report that brought the value) tells the latency.
 */
export class DeviceReporter {
  changing = false;
  readonly #node: (name: string) => SimNode | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #seq = 0;
  #sent = 0;
  #skipped = 0;

  constructor(node: (name: string) => SimNode | undefined) {
    this.#node = node;
  }

  start(devices: Array<{ node: string; device: string }>, everyMs: number): void {
    const byNode = new Map<string, string[]>();
    for (const d of devices) byNode.set(d.node, [...(byNode.get(d.node) ?? []), d.device]);
    for (const [node, names] of byNode) {
      const tick = () => this.#report(node, names);
      const first = setTimeout(() => {
        tick();
        this.#timers.push(setInterval(tick, everyMs));
      }, Math.random() * everyMs);
      this.#timers.push(first);
    }
  }

  stats(): { sent: number; skipped: number } {
    return { sent: this.#sent, skipped: this.#skipped };
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
  }

  #report(node: string, devices: string[]): void {
    const n = this.#node(node);
    for (const device of devices) {
      const now = Date.now();
      const value = this.changing ? String(++this.#seq) : '20';
      const content = {
        event_id: '',
        timestamp: now,
        twin: { temperature: { actual: { value, metadata: { timestamp: now } }, metadata: { type: 'int' } } },
      };
      const m = newMessage({ source: 'twin', group: 'resource', operation: 'update', resource: `device/${device}/twin/edge_updated`, content });
      if (n?.sendToCloud(m) === true) this.#sent++;
      else this.#skipped++;
    }
  }
}
