import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * cloudcore's metrics, on a registry of its own (an edgecore in the same process keeps its own). Sites update
 * them in one line; values that live in a module (queue depths) are read at scrape time through a provider.
 */
export const cloudRegistry = new Registry();
collectDefaultMetrics({ register: cloudRegistry });

const registers = [cloudRegistry];

export type QueueDepth = { total: number; max: number };
let queueDepth: () => QueueDepth = () => ({ total: 0, max: 0 });

/** CloudHub's reliable queue tells how deep the per-node queues are (messages waiting or unacked). */
export function setQueueDepthProvider(fn: () => QueueDepth): void {
  queueDepth = fn;
}

export const cloudMetrics = {
  connectedNodes: new Gauge({ name: 'kubeedge_cloudhub_connected_nodes', help: 'Edge nodes with an open CloudHub session.', registers }),
  messagesIn: new Counter({
    name: 'kubeedge_cloudhub_messages_received_total',
    help: 'Messages received from edge nodes, by resource type and operation.',
    labelNames: ['type', 'operation'] as const,
    registers,
  }),
  messagesOut: new Counter({
    name: 'kubeedge_cloudhub_messages_sent_total',
    help: 'Messages written to edge nodes, by resource type and operation.',
    labelNames: ['type', 'operation'] as const,
    registers,
  }),
  queueDepthTotal: new Gauge({
    name: 'kubeedge_cloudhub_queue_depth',
    help: 'Messages waiting or unacknowledged in the per-node reliable queues, all nodes together.',
    registers,
    collect() {
      this.set(queueDepth().total);
    },
  }),
  queueDepthMax: new Gauge({
    name: 'kubeedge_cloudhub_queue_depth_max',
    help: 'Messages waiting or unacknowledged in the deepest per-node reliable queue.',
    registers,
    collect() {
      this.set(queueDepth().max);
    },
  }),
  resends: new Counter({ name: 'kubeedge_cloudhub_resends_total', help: 'Reliable messages sent again because no ack came in time.', registers }),
  ackLatency: new Histogram({
    name: 'kubeedge_cloudhub_ack_latency_seconds',
    help: 'Time from the first write of a reliable message to its ack by the edge.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  }),
  apiServerRequests: new Histogram({
    name: 'kubeedge_apiserver_request_duration_seconds',
    help: 'Requests to the embedded API server, by verb, resource and status code (watches: until the response head).',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers,
  }),
  kubeClientRequests: new Histogram({
    name: 'kubeedge_kube_client_request_duration_seconds',
    help: "cloudcore's requests to the API server (embedded or a real cluster), by verb and status code.",
    labelNames: ['verb', 'code'] as const,
    registers,
  }),
  nodeMetricsReports: new Counter({
    name: 'kubeedge_cloud_node_metrics_reports_total',
    help: 'Resource usage samples received from edge nodes (served as metrics.k8s.io).',
    registers,
  }),
};
