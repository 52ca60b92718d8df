import type { ContainerUsage, PodUsage, StatsSample } from './types.ts';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;

type Family = { name: string; help: string; type: 'counter' | 'gauge'; rows: string[] };

/** The kubelet's `/metrics/resource` (Prometheus text, values stamped with the sample's time), from one sample. */
export function formatResourceMetrics(s: StatsSample | undefined): string {
  const fam = (name: string, help: string, type: Family['type']): Family => ({ name, help, type, rows: [] });
  const nodeCpu = fam('node_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter');
  const nodeMem = fam('node_memory_working_set_bytes', '[STABLE] Current working set of the node in bytes', 'gauge');
  const podCpu = fam('pod_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter');
  const podMem = fam('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge');
  const cCpu = fam('container_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter');
  const cMem = fam('container_memory_working_set_bytes', '[STABLE] Current working set of the container in bytes', 'gauge');
  const cStart = fam('container_start_time_seconds', '[STABLE] Start time of the container since unix epoch in seconds', 'gauge');
  const scrape = fam('resource_scrape_error', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge');
  if (s === undefined) scrape.rows.push(`${scrape.name} 1`);
  else {
    const ts = Date.parse(s.timestamp);
    nodeCpu.rows.push(`${nodeCpu.name} ${s.node.usageCoreNanoSeconds / 1e9} ${ts}`);
    nodeMem.rows.push(`${nodeMem.name} ${s.node.memoryWorkingSetBytes} ${ts}`);
    for (const p of s.pods) {
      const pl = { namespace: p.namespace, pod: p.name };
      const t = podTotals(p);
      podCpu.rows.push(`${podCpu.name}${labels(pl)} ${t.usageCoreNanoSeconds / 1e9} ${ts}`);
      podMem.rows.push(`${podMem.name}${labels(pl)} ${t.workingSetBytes} ${ts}`);
      for (const c of p.containers) {
        const cl = { container: c.name, namespace: p.namespace, pod: p.name };
        cCpu.rows.push(`${cCpu.name}${labels(cl)} ${c.usageCoreNanoSeconds / 1e9} ${ts}`);
        cMem.rows.push(`${cMem.name}${labels(cl)} ${c.workingSetBytes} ${ts}`);
        const started = Date.parse(c.startTime);
        if (Number.isFinite(started)) cStart.rows.push(`${cStart.name}${labels(cl)} ${started / 1000} ${ts}`);
      }
    }
    scrape.rows.push(`${scrape.name} 0`);
  }
  return [cCpu, cMem, cStart, nodeCpu, nodeMem, podCpu, podMem, scrape]
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.rows].join('\n'))
    .join('\n')
    .concat('\n');
}

/** A pod's usage: the sum of its containers (a rate only when every container has one). */
export function podTotals(p: PodUsage): { usageCoreNanoSeconds: number; usageNanoCores?: number; workingSetBytes: number; usageBytes: number } {
  let ns = 0;
  let cores: number | undefined = 0;
  let ws = 0;
  let used = 0;
  for (const c of p.containers) {
    ns += c.usageCoreNanoSeconds;
    cores = cores === undefined || c.usageNanoCores === undefined ? undefined : cores + c.usageNanoCores;
    ws += c.workingSetBytes;
    used += c.usageBytes;
  }
  return { usageCoreNanoSeconds: ns, ...(cores !== undefined ? { usageNanoCores: cores } : {}), workingSetBytes: ws, usageBytes: used };
}

const cpuJson = (time: string, u: { usageCoreNanoSeconds: number; usageNanoCores?: number }) => ({
  time,
  ...(u.usageNanoCores !== undefined ? { usageNanoCores: u.usageNanoCores } : {}),
  usageCoreNanoSeconds: u.usageCoreNanoSeconds,
});

function containerJson(time: string, c: ContainerUsage): Record<string, unknown> {
  return {
    name: c.name,
    startTime: c.startTime,
    cpu: cpuJson(time, c),
    memory: { time, usageBytes: c.usageBytes, workingSetBytes: c.workingSetBytes, ...(c.rssBytes !== undefined ? { rssBytes: c.rssBytes } : {}) },
  };
}

/** The kubelet's `/stats/summary` shape (node, pods with their containers), from one sample. */
export function formatSummary(s: StatsSample | undefined, nodeName: string): Record<string, unknown> {
  if (s === undefined) return { node: { nodeName }, pods: [] };
  const time = s.timestamp;
  const n = s.node;
  return {
    node: {
      nodeName: s.nodeName,
      cpu: cpuJson(time, n),
      memory: { time, availableBytes: n.memoryAvailableBytes, usageBytes: n.memoryUsageBytes, workingSetBytes: n.memoryWorkingSetBytes },
      ...(n.fs !== undefined ? { fs: { time, ...n.fs } } : {}),
    },
    pods: s.pods.map((p) => {
      const t = podTotals(p);
      const start = p.containers.map((c) => c.startTime).sort()[0];
      return {
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        ...(start !== undefined ? { startTime: start } : {}),
        containers: p.containers.map((c) => containerJson(time, c)),
        cpu: cpuJson(time, t),
        memory: { time, usageBytes: t.usageBytes, workingSetBytes: t.workingSetBytes },
      };
    }),
  };
}
