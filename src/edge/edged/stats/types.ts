/**
 * What edged's kubelet API serves from the stats collector (contract C2): `/metrics/resource` and `/stats/summary`.
 */
export type StatsSource = {
  /** Prometheus text as the kubelet's /metrics/resource (node_cpu_usage_seconds_total, node_memory_working_set_bytes,
   *  container_cpu_usage_seconds_total{container,pod,namespace}, container_memory_working_set_bytes{...}, pod_*, scrape_error). */
  resourceMetrics(): Promise<string>;
  /** JSON as the kubelet's /stats/summary (node + pods). */
  summary(): Promise<unknown>;
};

/** One container's usage at one instant, in the kubelet's units. */
export type ContainerUsage = {
  name: string;
  /** Cumulative CPU time, nanoseconds of one core. */
  usageCoreNanoSeconds: number;
  /** Rate over the last interval; undefined until two readings exist. */
  usageNanoCores?: number;
  /** Memory usage minus inactive file pages (what the OOM killer and metrics-server look at). */
  workingSetBytes: number;
  usageBytes: number;
  rssBytes?: number;
  /** RFC 3339; the container's start. */
  startTime: string;
};

export type PodUsage = { namespace: string; name: string; uid: string; containers: ContainerUsage[] };

export type NodeUsage = {
  usageCoreNanoSeconds: number;
  usageNanoCores?: number;
  memoryWorkingSetBytes: number;
  memoryAvailableBytes: number;
  memoryUsageBytes: number;
  fs?: { capacityBytes: number; availableBytes: number; usedBytes: number; inodes?: number; inodesFree?: number };
};

/** What the edge reports to the cloud and serves locally: the last collection. */
export type StatsSample = {
  nodeName: string;
  /** RFC 3339, when the sample was taken. */
  timestamp: string;
  /** Seconds the CPU rates cover. */
  windowSeconds: number;
  node: NodeUsage;
  pods: PodUsage[];
};

/** An engine reading of one container (Docker stats or CRI ContainerStats), before rates are worked out. */
export type ContainerReading = {
  id: string;
  usageCoreNanoSeconds: number;
  /** From the engine when it knows (CRI usage_nano_cores, Docker's precpu pair). */
  usageNanoCores?: number;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes?: number;
  /** ms since epoch of the reading. */
  at: number;
};
