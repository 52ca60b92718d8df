// Edged's usage samples from a real containerd (CRI ListContainerStats): a container spinning a CPU and holding a
// few MB shows up under its pod with a CPU rate and its working set; the sandbox is left out.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../../../../../src/core/log.ts';
import { CriRuntime } from '../../../../../src/edge/edged/runtime/cri/runtime.ts';
import { StatsCollector } from '../../../../../src/edge/edged/stats/collector.ts';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../../../../helpers/docker.ts';
import { criSkip, startTestContainerd, type TestContainerd } from '../../../../helpers/containerd.ts';

const skip = await criSkip();
const node = `n-stats-${process.pid}`;
let cd: TestContainerd | undefined;
let rt: CriRuntime | undefined;
const ids: string[] = [];

before(async () => {
  if (skip) return;
  cd = await startTestContainerd();
  rt = await CriRuntime.connect(cd.endpoint, { logRoot: cd.logRoot });
});

after(async () => {
  for (const id of ids.reverse()) await rt?.removeContainer(id).catch(() => undefined);
  rt?.close();
  await cd?.stop();
});

test('a busy container on containerd: CPU rate and working set under its pod, sandbox left out', { skip, timeout: 120_000 }, async () => {
  const runtime = rt as CriRuntime;
  const labels = {
    'io.kubernetes.pod.name': 'busy',
    'io.kubernetes.pod.namespace': 'default',
    'io.kubernetes.pod.uid': `uid-${process.pid}`,
    'io.kubeedge-ts.node': node,
  };
  const sid = await runtime.runSandbox({
    name: 'k8s_POD_busy',
    image: PAUSE_IMAGE,
    labels: { ...labels, 'io.kubernetes.container.name': 'POD' },
    hostname: 'busy',
    hostNetwork: false,
    portMappings: [],
  });
  ids.push(sid);
  const cid = await runtime.createContainer({
    name: 'k8s_spin_busy',
    image: BUSYBOX_IMAGE,
    labels: { ...labels, 'io.kubernetes.container.name': 'spin' },
    sandboxId: sid,
    hostNetwork: false,
    command: ['sh', '-c', 'x=$(head -c 4000000 /dev/zero | tr "\\0" a); while :; do :; done'],
    env: [],
    mounts: [],
  });
  ids.push(cid);
  await runtime.startContainer(cid);
  const collector = new StatsCollector({ runtime, nodeName: node, rootDirectory: mkdtempSync(path.join(os.tmpdir(), 'ke-cri-stats-')), log: logger('test') });
  // Two rounds a few seconds apart: the second has a rate whether or not containerd computed one itself.
  await sleep(2000);
  await collector.collect();
  await sleep(3000);
  const s = await collector.collect();
  assert.equal(s?.pods.length, 1, JSON.stringify(s?.pods));
  const pod = s?.pods[0];
  assert.deepEqual([pod?.namespace, pod?.name], ['default', 'busy']);
  assert.deepEqual(
    pod?.containers.map((c) => c.name),
    ['spin'],
  );
  const c = pod?.containers[0];
  assert.ok((c?.usageNanoCores ?? 0) > 100_000_000, `a spinning shell uses a good part of a core: ${c?.usageNanoCores}`);
  assert.ok((c?.usageCoreNanoSeconds ?? 0) > 0);
  assert.ok((c?.workingSetBytes ?? 0) > 4_000_000, `it holds a 4 MB string: ${c?.workingSetBytes}`);
});
