// Test kit for the embedded control plane (src/cloud/controllers): a real embedded API server and the chosen
// controllers, assembled as cloudcore assembles them and authenticated as cloudcore's ServiceAccount, so RBAC
// is exercised too. Not imported by daemon code.
import { startTestServer, type TestServer } from './apiserver.ts';
import { quietLog } from './cloudhub.ts';
import { Bus } from '../../src/core/bus.ts';
import { ModuleRuntime } from '../../src/core/module.ts';
import { loadKubeConfig } from '../../src/kube/client.ts';
import { installKubeEdgeCrds } from '../../src/kube/crds.ts';
import { type KubeObject, KubeRest } from '../../src/kube/rest.ts';
import { assembleCloudModules } from '../../src/cloud/modules.ts';
import type { CloudInformers } from '../../src/cloud/common/informers/informers.ts';

export type ControlPlaneTest = {
  api: TestServer;
  /** Admin access, for the test's own reads and writes (kubectl uses api.kubeConfigPath). */
  admin: KubeRest;
  informers: CloudInformers;
  /** Stops the controllers (the API server keeps running: `restart()` starts them again on the same data). */
  stop(): Promise<void>;
  /** Starts the same controllers again (after `stop`), as a restarted cloudcore would. */
  restart(): Promise<ControlPlaneTest>;
  /** Stops everything and removes the temp dir. */
  cleanup(): Promise<void>;
};

/**
 * Runs `controllers` (names as in modules.controllerManager.controllers; `scheduler` for the scheduler) against a
 * fresh embedded API server, without CloudHub or EdgeController.
 */
export async function startControlPlane(controllers: string[], api?: TestServer): Promise<ControlPlaneTest> {
  const server = api ?? (await startTestServer());
  const log = quietLog('controlplane-test');
  const admin = new KubeRest(loadKubeConfig({ kubeConfig: server.kubeConfigPath }));
  await installKubeEdgeCrds(admin);
  const kc = loadKubeConfig({ kubeConfig: server.cloudcoreKubeConfigPath });
  const kube = new KubeRest(kc);
  const set = assembleCloudModules(
    {
      cloudHub: undefined,
      edgeController: { enable: false },
      syncController: { enable: false },
      controlPlane: { controllers: controllers.filter((c) => c !== 'scheduler'), scheduler: controllers.includes('scheduler') },
      informerBackoff: { initialMs: 50, maxMs: 500 },
    },
    { kube, kubeConfig: kc, log: () => log },
  );
  if (set.notBuilt.length > 0) throw new Error(`controllers not built: ${set.notBuilt.join(', ')}`);
  const bus = new Bus(log);
  const runtime = new ModuleRuntime(bus, log);
  for (const m of set.modules) runtime.add(m);
  await runtime.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
    kube.close();
  };
  return {
    api: server,
    admin,
    informers: set.informers,
    stop,
    restart: async () => {
      await stop();
      admin.close();
      return startControlPlane(controllers, server);
    },
    cleanup: async () => {
      await stop();
      admin.close();
      await server.cleanup();
    },
  };
}

/** A Node as a test creates it (no kubelet behind it): capacity = allocatable, a Ready condition, labels, taints. */
export type TestNodeSpec = {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  ready?: 'True' | 'False' | 'Unknown';
  unschedulable?: boolean;
};

/** Test nodes: creates Node `name` through the admin client, with its status (what a kubelet would post). */
export async function createTestNode(admin: KubeRest, name: string, s: TestNodeSpec = {}): Promise<void> {
  const resources = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: String(s.pods ?? 110), 'ephemeral-storage': '100Gi' };
  await admin.create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(s.labels ?? {}) } },
    spec: { ...(s.taints === undefined ? {} : { taints: s.taints }), ...(s.unschedulable === true ? { unschedulable: true } : {}) },
  });
  await setTestNodeReady(admin, name, s.ready ?? 'True', resources);
}

/** Test nodes: sets the node's Ready condition as its kubelet (or the node monitor, for Unknown) would. */
export async function setTestNodeReady(admin: KubeRest, name: string, ready: 'True' | 'False' | 'Unknown', resources?: Record<string, string>): Promise<void> {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const reason = ready === 'True' ? 'KubeletReady' : ready === 'False' ? 'KubeletNotReady' : 'NodeStatusUnknown';
  await admin.patch(
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        ...(resources === undefined ? {} : { capacity: resources, allocatable: resources }),
        conditions: [{ type: 'Ready', status: ready, reason, message: reason, lastHeartbeatTime: at, lastTransitionTime: at }],
      },
    },
    'strategic',
  );
}

/** Test kubelet: marks every pod bound to `node` Running and Ready (nothing runs; only the status is posted). */
export async function testKubeletMarkRunning(admin: KubeRest, node: string): Promise<void> {
  const list = await admin.get<{ items: Array<{ metadata: { name: string; namespace: string }; status?: { phase?: string } }> }>(
    `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`,
  );
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const p of list.items) {
    if (p.status?.phase === 'Running') continue;
    await admin.patch(
      `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`,
      {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'Ready', status: 'True', lastTransitionTime: at },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: at },
          ],
        },
      },
      'strategic',
    );
  }
}

/**
 * Test kubelet: until stopped, confirms the deletion of pods on `node` that are being deleted (what a kubelet
 * does once their containers have stopped), so graceful deletions and evictions complete without a kubelet.
 */
export function testKubeletConfirmDeletions(admin: KubeRest, node: string, intervalMs = 200): { stop(): void } {
  let stopped = false;
  const tick = async (): Promise<void> => {
    while (!stopped) {
      try {
        const list = await admin.get<{ items: Array<{ metadata: { name: string; namespace: string; deletionTimestamp?: string; uid: string } }> }>(
          `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`,
        );
        for (const p of list.items) {
          if (p.metadata.deletionTimestamp === undefined) continue;
          await admin.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: 0,
            preconditions: { uid: p.metadata.uid },
          });
        }
      } catch {
        // gone meanwhile, or the server is stopping: look again next round
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  void tick();
  return {
    stop: () => {
      stopped = true;
    },
  };
}

export type TestKubelet = {
  /** Pods this returns false for stay Pending and not ready (a rollout that cannot progress). */
  setAdmit(admit: (pod: KubeObject) => boolean): void;
  stop(): Promise<void>;
};

/**
 * A "test kubelet" (no containers run: it stands in for edged in control-plane tests): marks every pod Running
 * and Ready `readyAfterMs` after it first sees it, and finishes the deletion of pods being deleted (what a
 * kubelet does once their containers stopped). Polls the API as admin.
 */
export function startTestKubelet(admin: KubeRest, o: { readyAfterMs?: number; pollMs?: number } = {}): TestKubelet {
  const firstSeen = new Map<string, number>();
  let admit: (pod: KubeObject) => boolean = () => true;
  let stopped = false;
  const tick = async (): Promise<void> => {
    const list = await admin.get<{ items: KubeObject[] }>('/api/v1/pods');
    const now = Date.now();
    await Promise.all(
      list.items.map(async (pod) => {
        const ns = pod.metadata?.namespace ?? '';
        const name = pod.metadata?.name ?? '';
        const path = `/api/v1/namespaces/${ns}/pods/${name}`;
        try {
          if (pod.metadata?.['deletionTimestamp'] !== undefined) {
            await admin.delete(path, { gracePeriodSeconds: 0 });
            return;
          }
          const key = `${ns}/${name}/${pod.metadata?.uid}`;
          if (!firstSeen.has(key)) firstSeen.set(key, now);
          const st = pod['status'] as { phase?: string } | undefined;
          if (st?.phase === 'Running' || !admit(pod) || now - (firstSeen.get(key) ?? now) < (o.readyAfterMs ?? 0)) return;
          const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: ts });
          await admin.patch(
            `${path}/status`,
            {
              status: {
                phase: 'Running',
                startTime: ts,
                podIP: '10.0.0.1',
                conditions: [cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
              },
            },
            'merge',
          );
        } catch {
          // gone meanwhile: the next poll sees the current list
        }
      }),
    );
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => {});
      await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
    }
  })();
  return {
    setAdmit(f) {
      admit = f;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

// ---- batch workloads (DaemonSet, StatefulSet, Job, CronJob tests) ----

import type { KubeObject as BatchPod } from '../../src/kube/rest.ts';

/** What the batch test kubelet does with a pod: run it (Ready or not), or end it. */
export type BatchPodFate = { phase: 'Running'; ready: boolean } | { phase: 'Succeeded' } | { phase: 'Failed' } | undefined;

export type BatchTestKubelet = {
  /** Pods the kubelet has ever started (by name), in order. */
  started: string[];
  stop(): Promise<void>;
};

/**
 * A test kubelet (there is no edge in these tests): polls the pods and patches their status as a kubelet
 * would, by `fate(pod)` (default: Running and Ready); a pod being deleted is confirmed gone (grace period 0),
 * as a kubelet confirms after stopping its containers. `nodes`: only pods bound to these nodes (default: all
 * pods, bound or not, as no scheduler runs). With `bindByAffinity`, it first plays the scheduler for pods
 * whose node affinity names one node (`metadata.name In [node]`, as DaemonSet pods carry), setting spec.nodeName.
 */
export function startBatchTestKubelet(
  admin: KubeRest,
  o: { fate?: (pod: BatchPod) => BatchPodFate; nodes?: string[]; bindByAffinity?: boolean; intervalMs?: number } = {},
): BatchTestKubelet {
  const started: string[] = [];
  const done = new Set<string>();
  let running = true;
  const fate = o.fate ?? (() => ({ phase: 'Running', ready: true }) as const);
  const tick = async (): Promise<void> => {
    const list = await admin.get<{ items: BatchPod[] }>('/api/v1/pods');
    for (const pod of list.items) {
      const md = pod.metadata ?? {};
      const path = `/api/v1/namespaces/${md.namespace}/pods/${md.name}`;
      const spec = (pod['spec'] ?? {}) as { nodeName?: string; containers?: Array<{ name: string; image?: string }> };
      let node = spec.nodeName ?? '';
      if (node === '' && o.bindByAffinity === true) {
        node = affinityNode(pod);
        if (node === '') continue;
        await admin.patch(path, { spec: { nodeName: node } }, 'merge').catch(() => undefined);
      }
      if (o.nodes !== undefined && !o.nodes.includes(node)) continue;
      if (md['deletionTimestamp'] !== undefined) {
        await admin.delete(path, { gracePeriodSeconds: 0 }).catch(() => undefined);
        continue;
      }
      const uid = String(md.uid);
      const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
      if (done.has(uid) || phase === 'Succeeded' || phase === 'Failed') continue;
      const f = fate(pod);
      if (f === undefined) continue;
      const wasReady = ((pod['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
        (c) => c.type === 'Ready' && c.status === 'True',
      );
      if (f.phase === 'Running' && phase === 'Running' && wasReady === f.ready) continue;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const ready = f.phase === 'Running' && f.ready;
      const containers = (spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready,
        restartCount: 0,
        started: f.phase === 'Running',
        state:
          f.phase === 'Running'
            ? { running: { startedAt: now } }
            : {
                terminated: {
                  exitCode: f.phase === 'Succeeded' ? 0 : 1,
                  reason: f.phase === 'Succeeded' ? 'Completed' : 'Error',
                  startedAt: now,
                  finishedAt: now,
                },
              },
      }));
      const status = {
        phase: f.phase,
        startTime: now,
        conditions: [
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        ],
        containerStatuses: containers,
      };
      const patched = await admin.patch(`${path}/status`, { status }, 'merge').then(
        () => true,
        () => false,
      );
      if (!patched) continue;
      if (!started.includes(String(md.name))) started.push(String(md.name));
      if (f.phase !== 'Running') done.add(uid);
    }
  };
  const loop = (async () => {
    while (running) {
      await tick().catch(() => undefined);
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 150));
    }
  })();
  return {
    started,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

function affinityNode(pod: BatchPod): string {
  const terms =
    (
      pod['spec'] as
        | {
            affinity?: {
              nodeAffinity?: {
                requiredDuringSchedulingIgnoredDuringExecution?: {
                  nodeSelectorTerms?: Array<{ matchFields?: Array<{ key: string; operator: string; values?: string[] }> }>;
                };
              };
            };
          }
        | undefined
    )?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0] ?? '';
  return '';
}

/**
 * Test kubelet (no edge in these tests): sets what a kubelet would report for a pod, its IP and Ready
 * condition (phase Running), through pods/status as admin.
 */
export async function testKubeletSetPodStatus(admin: KubeRest, namespace: string, name: string, s: { ip: string; ready: boolean }): Promise<void> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const conditions = [{ type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: now }];
  await admin.patch(path, { status: { phase: 'Running', podIP: s.ip, podIPs: [{ ip: s.ip }], conditions } }, 'merge');
}
