import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../../../core/log.ts';
import type { ContainerInfo, ContainerRuntime } from '../runtime/types.ts';
import { StatsCollector } from './collector.ts';
import { parseCriStats } from './cri-stats.ts';
import { parseDockerStats, rateNanoCores } from './docker-stats.ts';
import { formatResourceMetrics, formatSummary } from './formats.ts';
import { parseMeminfo, parseProcStat } from './proc.ts';
import { podPhaseCounts } from './report.ts';
import type { ContainerReading, StatsSample } from './types.ts';

test('Docker stats on cgroup v2: working set is usage minus inactive_file; precpu gives a first CPU rate', () => {
  const r = parseDockerStats('c1', {
    read: '2026-01-01T00:00:02.000Z',
    preread: '2026-01-01T00:00:01.000Z',
    cpu_stats: { cpu_usage: { total_usage: 3_500_000_000 } },
    precpu_stats: { cpu_usage: { total_usage: 3_000_000_000 } },
    memory_stats: { usage: 10_000_000, stats: { inactive_file: 4_000_000, anon: 5_000_000 } },
  });
  assert.deepEqual(r, {
    id: 'c1',
    usageCoreNanoSeconds: 3_500_000_000,
    usageNanoCores: 500_000_000,
    workingSetBytes: 6_000_000,
    usageBytes: 10_000_000,
    rssBytes: 5_000_000,
    at: Date.parse('2026-01-01T00:00:02.000Z'),
  });
});

test('Docker stats on cgroup v1 (total_inactive_file, rss); no precpu means no rate; inactive above usage gives 0', () => {
  const r = parseDockerStats('c2', {
    read: '2026-01-01T00:00:02Z',
    preread: '0001-01-01T00:00:00Z',
    cpu_stats: { cpu_usage: { total_usage: 100 } },
    precpu_stats: { cpu_usage: { total_usage: 0 } },
    memory_stats: { usage: 1000, stats: { total_inactive_file: 2000, rss: 700 } },
  });
  assert.equal(r?.usageNanoCores, undefined);
  assert.equal(r?.workingSetBytes, 0);
  assert.equal(r?.rssBytes, 700);
  // A stopped container's answer has no read time: no reading at all.
  assert.equal(parseDockerStats('c3', { read: 'garbage', cpu_stats: {} }), undefined);
  assert.equal(parseDockerStats('c3', {}), undefined);
  // An empty answer from the engine (a container removed meanwhile): no reading, no TypeError.
  assert.equal(parseDockerStats('c3', undefined), undefined);
  assert.equal(parseDockerStats('c3', null), undefined);
});

test('CPU rate from two cumulative readings is ns of CPU per second; a counter that went back gives none', () => {
  assert.equal(rateNanoCores(1e9, 0, 3e9, 2000), 1e9);
  assert.equal(rateNanoCores(0, 0, 25e7, 1000), 25e7);
  assert.equal(rateNanoCores(5e9, 0, 1e9, 1000), undefined);
  assert.equal(rateNanoCores(0, 1000, 1e9, 1000), undefined);
});

test('/proc/stat busy time leaves idle and iowait out; /proc/meminfo gives total and available bytes', () => {
  const stat = 'cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 50 10 15 500 25 2 2 5 0 0\nintr 1\n';
  assert.equal(parseProcStat(stat), (100 + 20 + 30 + 5 + 5 + 10) * 1e7);
  assert.equal(parseProcStat('intr 1\n'), undefined);
  const mem = 'MemTotal:        2048 kB\nMemFree:          512 kB\nMemAvailable:    1024 kB\n';
  assert.deepEqual(parseMeminfo(mem), { totalBytes: 2048 * 1024, availableBytes: 1024 * 1024 });
  assert.deepEqual(parseMeminfo('MemTotal: 4 kB\nMemFree: 1 kB\n'), { totalBytes: 4096, availableBytes: 1024 });
  assert.equal(parseMeminfo('nothing'), undefined);
});

const SAMPLE: StatsSample = {
  nodeName: 'n1',
  timestamp: '2026-01-01T00:00:00.000Z',
  windowSeconds: 15,
  node: { usageCoreNanoSeconds: 5e9, usageNanoCores: 2e8, memoryWorkingSetBytes: 1000, memoryAvailableBytes: 3000, memoryUsageBytes: 1000 },
  pods: [
    {
      namespace: 'default',
      name: 'we"ird',
      uid: 'u1',
      containers: [
        { name: 'a', usageCoreNanoSeconds: 2e9, usageNanoCores: 1e8, workingSetBytes: 300, usageBytes: 400, startTime: '2025-12-31T23:00:00.000Z' },
        { name: 'b', usageCoreNanoSeconds: 1e9, workingSetBytes: 100, usageBytes: 100, startTime: '2025-12-31T23:30:00.000Z' },
      ],
    },
  ],
};

test("/metrics/resource text has the kubelet's families, escaped labels and the sample's timestamp", () => {
  const text = formatResourceMetrics(SAMPLE);
  const ts = Date.parse(SAMPLE.timestamp);
  assert.match(text, /^# HELP container_cpu_usage_seconds_total /m);
  assert.match(text, /^# TYPE node_memory_working_set_bytes gauge$/m);
  assert.ok(text.includes(`container_cpu_usage_seconds_total{container="a",namespace="default",pod="we\\"ird"} 2 ${ts}\n`), text);
  assert.ok(text.includes(`pod_memory_working_set_bytes{namespace="default",pod="we\\"ird"} 400 ${ts}\n`));
  assert.ok(text.includes(`node_cpu_usage_seconds_total 5 ${ts}\n`));
  assert.ok(text.includes('resource_scrape_error 0\n'));
  assert.match(formatResourceMetrics(undefined), /^resource_scrape_error 1$/m);
});

test('/stats/summary: node and pods; a pod has a CPU rate only when all its containers have one', () => {
  const s = formatSummary(SAMPLE, 'n1') as {
    node: { nodeName: string; cpu: { usageNanoCores?: number }; memory: { workingSetBytes: number } };
    pods: { podRef: { name: string; uid: string }; startTime: string; cpu: { usageNanoCores?: number; usageCoreNanoSeconds: number }; containers: unknown[] }[];
  };
  assert.equal(s.node.nodeName, 'n1');
  assert.equal(s.node.cpu.usageNanoCores, 2e8);
  assert.equal(s.pods[0]?.podRef.uid, 'u1');
  assert.equal(s.pods[0]?.startTime, '2025-12-31T23:00:00.000Z');
  assert.equal(s.pods[0]?.cpu.usageNanoCores, undefined);
  assert.equal(s.pods[0]?.cpu.usageCoreNanoSeconds, 3e9);
  assert.equal(s.pods[0]?.containers.length, 2);
  assert.deepEqual(formatSummary(undefined, 'n1'), { node: { nodeName: 'n1' }, pods: [] });
});

test('pods by phase count a pod without status as Pending', () => {
  assert.deepEqual(podPhaseCounts(['Running', undefined, 'Running', 'Failed']), { Running: 2, Pending: 1, Failed: 1 });
});

/** A fake engine (no dockerd): two containers of one pod plus its sandbox, with readings the test sets. */
function fakeRuntime(readings: () => ContainerReading[]): ContainerRuntime {
  const info = (id: string, container: string): ContainerInfo => ({
    id,
    name: id,
    image: 'busybox',
    imageRef: 'sha256:x',
    labels: {
      'io.kubernetes.pod.name': 'p',
      'io.kubernetes.pod.namespace': 'ns',
      'io.kubernetes.pod.uid': 'uid-1',
      'io.kubernetes.container.name': container,
      'io.kubeedge-ts.node': 'n1',
    },
    state: 'running',
    exitCode: 0,
    error: '',
    oomKilled: false,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
  });
  const fail = () => Promise.reject(new Error('not in this fake'));
  return {
    name: 'fake',
    endpoint: 'unix:///nowhere',
    version: fail,
    imageId: fail,
    pullImage: fail,
    runSandbox: fail,
    createContainer: fail,
    startContainer: fail,
    stopContainer: fail,
    removeContainer: fail,
    inspect: fail,
    exec: fail,
    list: async (labels) => (labels['io.kubeedge-ts.node'] === 'n1' ? [info('s', 'POD'), info('c1', 'app'), info('c2', 'side')] : []),
    containerStats: async (ids) => readings().filter((r) => ids.includes(r.id)),
  };
}

test('the collector (fake engine) groups containers by pod, leaves the sandbox out and rates CPU from its previous round', async () => {
  let round = 0;
  const reading = (id: string, ns: number, at: number, engineRate?: number): ContainerReading => ({
    id,
    usageCoreNanoSeconds: ns,
    workingSetBytes: 1 << 20,
    usageBytes: 2 << 20,
    at,
    ...(engineRate !== undefined ? { usageNanoCores: engineRate } : {}),
  });
  const rt = fakeRuntime(() =>
    round === 0 ? [reading('c1', 1e9, 10_000, 7), reading('c2', 0, 10_000)] : [reading('c1', 4e9, 13_000, 7), reading('c2', 3e8, 13_000)],
  );
  const samples: StatsSample[] = [];
  const c = new StatsCollector({
    runtime: rt,
    nodeName: 'n1',
    rootDirectory: mkdtempSync(path.join(os.tmpdir(), 'ke-stats-')),
    log: logger('test'),
    onSample: (s) => samples.push(s),
  });
  const first = await c.collect();
  assert.equal(first?.pods.length, 1);
  const pod = first?.pods[0];
  assert.deepEqual(
    pod?.containers.map((x) => [x.name, x.usageNanoCores]),
    [
      ['app', 7],
      ['side', undefined],
    ],
    "first round: the engine's own rate where it has one",
  );
  assert.equal(pod?.namespace, 'ns');
  assert.ok((first?.node.memoryWorkingSetBytes ?? 0) > 0, 'node memory from /proc/meminfo');
  assert.ok(first?.node.fs !== undefined && first.node.fs.capacityBytes > 0, 'the root directory filesystem');
  round = 1;
  await sleep(20); // a later clock reading for the node's rate
  const second = await c.collect();
  assert.deepEqual(
    second?.pods[0]?.containers.map((x) => [x.name, x.usageNanoCores]),
    [
      ['app', 1e9],
      ['side', 1e8],
    ],
  );
  assert.ok(second?.node.usageNanoCores !== undefined, 'node CPU rate from the previous round');
  assert.equal(samples.length, 2);
  assert.match(await c.resourceMetrics(), /container_cpu_usage_seconds_total\{container="app",namespace="ns",pod="p"\} 4 /);
});

test('CRI ContainerStats: 64-bit values as strings, the CPU timestamp in ns, an absent rate left to our own', () => {
  const r = parseCriStats({
    attributes: { id: 'abc' },
    cpu: { timestamp: '1767225600000000000', usage_core_nano_seconds: { value: '5000000000' }, usage_nano_cores: { value: '250000000' } },
    memory: { working_set_bytes: { value: '4096' }, usage_bytes: { value: '8192' }, rss_bytes: { value: '1024' } },
  });
  assert.deepEqual(r, {
    id: 'abc',
    usageCoreNanoSeconds: 5e9,
    usageNanoCores: 25e7,
    workingSetBytes: 4096,
    usageBytes: 8192,
    rssBytes: 1024,
    at: 1767225600000,
  });
  const first = parseCriStats({ attributes: { id: 'abc' }, cpu: { timestamp: '0', usage_core_nano_seconds: { value: '1' }, usage_nano_cores: null } }, 42);
  assert.deepEqual(first, { id: 'abc', usageCoreNanoSeconds: 1, workingSetBytes: 0, usageBytes: 0, at: 42 });
  assert.equal(parseCriStats({ attributes: { id: 'abc' }, cpu: null }), undefined);
  assert.equal(parseCriStats({ cpu: {} }), undefined);
});
