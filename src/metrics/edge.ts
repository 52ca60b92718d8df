import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** edgecore's metrics, on a registry of its own (see cloud.ts). */
export const edgeRegistry = new Registry();
// The event-loop delay histogram samples on a libuv timer: prom-client's 10 ms wakes an idle edgecore 100 times a
// second (most of its idle CPU). One sample a second still catches a blocked loop (the delay itself is measured in ns).
collectDefaultMetrics({ register: edgeRegistry, eventLoopMonitoringPrecision: 1000 });

const registers = [edgeRegistry];

let podPhases: () => Record<string, number> = () => ({});

/** Edged tells how many of its pods are in each phase, read at scrape time. */
export function setPodPhaseProvider(fn: () => Record<string, number>): void {
  podPhases = fn;
}

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

export const edgeMetrics = {
  connected: new Gauge({ name: 'kubeedge_edgehub_connected', help: '1 while the link to CloudHub is open.', registers }),
  messagesIn: new Counter({
    name: 'kubeedge_edgehub_messages_received_total',
    help: 'Messages received from the cloud, by resource type and operation.',
    labelNames: ['type', 'operation'] as const,
    registers,
  }),
  messagesOut: new Counter({
    name: 'kubeedge_edgehub_messages_sent_total',
    help: 'Messages written to the cloud, by resource type and operation.',
    labelNames: ['type', 'operation'] as const,
    registers,
  }),
  pods: new Gauge({
    name: 'kubeedge_edged_pods',
    help: 'Pods edged runs, by phase.',
    labelNames: ['phase'] as const,
    registers,
    collect() {
      const counts = podPhases();
      for (const phase of new Set([...PHASES, ...Object.keys(counts)])) this.set({ phase }, counts[phase] ?? 0);
    },
  }),
  engineRequests: new Histogram({
    name: 'kubeedge_edged_engine_request_duration_seconds',
    help: 'Calls to the container engine (Docker Engine API or CRI), by runtime, operation and outcome.',
    labelNames: ['runtime', 'operation', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers,
  }),
  sqliteWrites: new Histogram({
    name: 'kubeedge_metamanager_sqlite_write_duration_seconds',
    help: "Writes to edgecore's SQLite store (MetaManager), by operation.",
    labelNames: ['operation'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  }),
  podReports: new Counter({
    name: 'kubeedge_edged_pod_reports_total',
    help: 'Pod status (podpatch) and deletion reports to the cloud, by kind and outcome (ok, failed: refused or unanswered, retried with backoff; offline: waits for the link; dropped: the pod is gone).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  }),
  statsCollections: new Counter({
    name: 'kubeedge_edged_stats_collections_total',
    help: 'Resource usage samples taken from the engine and /proc, by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  }),
};

/** Times an engine call: one line at the call site. */
export async function timeEngineCall<T>(runtime: string, operation: string, call: () => Promise<T>): Promise<T> {
  const end = edgeMetrics.engineRequests.startTimer({ runtime, operation });
  try {
    const v = await call();
    end({ outcome: 'ok' });
    return v;
  } catch (err) {
    end({ outcome: 'error' });
    throw err;
  }
}
