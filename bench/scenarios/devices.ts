import { pool, sleep, waitUntil } from '../lib/pool.ts';
import { measureUsage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, rate, summarize } from '../lib/stats.ts';
import type { Session } from './session.ts';

export const DEVICES_NS = 'bench-devices';
const DEVICES = `/apis/devices.kubeedge.io/v1beta1/namespaces/${DEVICES_NS}`;

export type DevicesOptions = {
  nodes: number;
  devices: number;
  reportEveryMs: number;
  /** cloudcore's `statusUpdateIntervalMs` and `updateDeviceStatusWorkers` (for the record; the session applied them). */
  statusUpdateIntervalMs: number;
  workers: number;
  warmupMs: number;
  windowMs: number;
  timeoutMs: number;
};

type Window = { writesPerSec: number; cpuPercent: number; rssMiB: number; reportsPerSec: number; latency: number[] };

/**
 * Devices bench: D devices spread over the N simulated edges of the session, each reporting a twin value every
 * `reportEveryMs` as KubeEdge's DeviceTwin does. Two windows: values that do not change (the API should see no
 * writes), then values that change with every report (writes are folded to at most one per device per
 * `statusUpdateIntervalMs`). Per window: cloudcore CPU, API writes per second (Device MODIFIED events on a watch:
 * one per write) and, while values change, reported-to-status latency (a value's send time, which the status keeps
 * as its timestamp, to the watch event showing it).
 */
export async function devicesBench(s: Session, o: DevicesOptions, out: BenchOutcome): Promise<void> {
  out.params = { ...o, model: 'one DeviceModel, one INT property per device', edges: 'edgemark simulated nodes (same machine)' };
  const api = s.cloud.api;
  const errors: Record<string, number> = { create: 0, notAtEdge: 0, noFirstStatus: 0, watch: 0, reportsSkipped: 0 };
  out.errors = errors;
  const names = Array.from({ length: o.nodes }, (_, i) => `devmark-${i}`);
  await s.fleet.add(names, 0);
  const connected = await waitUntil(() => names.every((n) => s.fleet.nodes.get(n)?.firstConnectAt !== undefined), 120_000, 200);
  if (!connected) throw new Error('not all simulated edges connected within 120 s');
  await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEVICES_NS } });
  const model = await api.request('POST', `${DEVICES}/devicemodels`, {
    apiVersion: 'devices.kubeedge.io/v1beta1',
    kind: 'DeviceModel',
    metadata: { name: 'bench-thermometer', namespace: DEVICES_NS },
    spec: { protocol: 'virtual', properties: [{ name: 'temperature', type: 'INT', accessMode: 'ReadOnly' }] },
  });
  if (model.status >= 300) throw new Error(`DeviceModel create: HTTP ${model.status}`);

  const devices = Array.from({ length: o.devices }, (_, i) => ({ node: names[i % o.nodes] as string, device: `dev-${i}` }));
  const atEdge = new Set<string>();
  const offWrite = s.fleet.onWrite((ev) => {
    if (ev.op === 'insert' && ev.resource.startsWith(`${DEVICES_NS}/device/`)) atEdge.add(ev.resource.slice(`${DEVICES_NS}/device/`.length));
  });
  let modified = 0;
  const latency: number[] = [];
  let collect = false;
  const seenTs = new Map<string, string>();
  const w = api.watch(
    `${DEVICES}/devices`,
    (type, obj, at) => {
      if (type !== 'MODIFIED') return;
      modified++;
      const ts = (obj?.status?.twins ?? []).find((t: { propertyName?: string }) => t.propertyName === 'temperature')?.reported?.metadata?.timestamp;
      const name = String(obj?.metadata?.name ?? '');
      if (typeof ts !== 'string' || seenTs.get(name) === ts) return;
      seenTs.set(name, ts);
      if (collect) latency.push(at - Number(ts));
    },
    () => errors['watch']!++,
  );
  try {
    const t0 = performance.now();
    await pool(o.devices, 16, async (i) => {
      const d = devices[i]!;
      const r = await api.request('POST', `${DEVICES}/devices`, {
        apiVersion: 'devices.kubeedge.io/v1beta1',
        kind: 'Device',
        metadata: { name: d.device, namespace: DEVICES_NS },
        spec: {
          deviceModelRef: { name: 'bench-thermometer' },
          nodeName: d.node,
          protocol: { protocolName: 'virtual' },
          properties: [{ name: 'temperature', reportCycle: o.reportEveryMs, reportToCloud: true, visitors: { protocolName: 'virtual' } }],
        },
      });
      if (r.status >= 300) errors['create']!++;
    });
    const createdMs = performance.now() - t0;
    await waitUntil(() => atEdge.size >= o.devices, o.timeoutMs, 200);
    errors['notAtEdge'] = o.devices - atEdge.size;
    const deliveredMs = performance.now() - t0;

    s.fleet.setDevicesChanging(false);
    s.fleet.startDevices(devices, o.reportEveryMs);
    // The first report of each device is news (one write each); after that the value never changes.
    await waitUntil(() => seenTs.size >= o.devices, o.timeoutMs, 200);
    errors['noFirstStatus'] = o.devices - seenTs.size;
    await sleep(o.warmupMs);
    const steady = await window(s, o.windowMs, () => modified);

    s.fleet.setDevicesChanging(true);
    await sleep(o.warmupMs);
    collect = true;
    const changing = await window(s, o.windowMs, () => modified);
    collect = false;
    changing.latency = latency.splice(0);
    const st = await s.fleet.stats();
    errors['reportsSkipped'] = st.deviceReports?.skipped ?? 0;

    const lat = summarize(changing.latency);
    const maxWrites = (o.devices * 1000) / o.statusUpdateIntervalMs;
    out.figures = { createdMs, deliveredMs, steady, changing: { ...changing, latency: lat }, maxWritesPerSec: maxWrites };
    out.rows.push(
      { metric: 'devices / edges', value: `${o.devices} / ${o.nodes}`, note: `each device reports every ${o.reportEveryMs} ms` },
      { metric: 'created + at the edges', value: `${fmt(deliveredMs / 1000)} s`, note: `creates done after ${fmt(createdMs / 1000)} s` },
      { metric: 'unchanged: reports/s', value: fmt(steady.reportsPerSec, 0), note: 'twin reports the simulated edges sent' },
      { metric: 'unchanged: API writes/s', value: fmt(steady.writesPerSec, 1), note: `Device writes seen on a watch over ${fmt(o.windowMs / 1000)} s` },
      { metric: 'unchanged: cloudcore CPU', value: `${fmt(steady.cpuPercent)} %`, note: `of one core; RSS ${fmt(steady.rssMiB, 0)} MiB` },
      { metric: 'changing: reports/s', value: fmt(changing.reportsPerSec, 0), note: 'every report a new value' },
      {
        metric: 'changing: API writes/s',
        value: fmt(changing.writesPerSec, 1),
        note: `at most ${fmt(maxWrites, 0)}/s (one per device per ${o.statusUpdateIntervalMs} ms), ${o.workers} writers`,
      },
      { metric: 'changing: cloudcore CPU', value: `${fmt(changing.cpuPercent)} %`, note: `of one core; RSS ${fmt(changing.rssMiB, 0)} MiB` },
      {
        metric: 'reported-to-status p50/p99',
        value: `${fmt(lat.p50, 0)} / ${fmt(lat.p99, 0)} ms`,
        note: `over ${lat.n} writes; includes the fold-in wait (up to ${o.statusUpdateIntervalMs} ms)`,
      },
    );
  } finally {
    w.stop();
    offWrite();
  }
}

async function window(s: Session, ms: number, writes: () => number): Promise<Window> {
  const before = await s.fleet.stats();
  const w0 = writes();
  const t0 = performance.now();
  const usage = await measureUsage(s.cloud.daemon.pid, ms);
  const span = performance.now() - t0;
  const after = await s.fleet.stats();
  return {
    writesPerSec: rate(writes() - w0, span),
    cpuPercent: usage?.cpuPercent ?? Number.NaN,
    rssMiB: usage?.rssMiB ?? Number.NaN,
    reportsPerSec: rate((after.deviceReports?.sent ?? 0) - (before.deviceReports?.sent ?? 0), span),
    latency: [],
  };
}
