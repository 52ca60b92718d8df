/** Where edged's kubelet API server gets /metrics/resource and /stats/summary from. */
export type StatsSource = {
  /** Prometheus text as the kubelet's /metrics/resource (node_cpu_usage_seconds_total, node_memory_working_set_bytes,
   *  container_cpu_usage_seconds_total{container,pod,namespace}, container_memory_working_set_bytes{...}, pod_*, scrape_error). */
  resourceMetrics(): Promise<string>;
  /** JSON as the kubelet's /stats/summary (node + pods). */
  summary(): Promise<unknown>;
};
