/**
 * The usage samples the embedded API server serves as `metrics.k8s.io/v1beta1`, in its own terms (it imports
 * nothing from cloud or edge). cloudcore passes a provider of the last sample per node, as edges report them.
 */
export type MetricsSample = {
  nodeName: string;
  /** RFC 3339. */
  timestamp: string;
  windowSeconds: number;
  node: { usageNanoCores?: number; memoryWorkingSetBytes: number };
  pods: Array<{ namespace: string; name: string; containers: Array<{ name: string; usageNanoCores?: number; workingSetBytes: number }> }>;
};

export type MetricsProvider = () => readonly MetricsSample[];
