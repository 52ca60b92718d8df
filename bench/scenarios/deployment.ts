import { nowMs } from '../lib/api.ts';
import { sleep, waitUntil } from '../lib/pool.ts';
import { measureUsage } from '../lib/proc.ts';
import type { BenchOutcome } from '../lib/report.ts';
import { fmt, summarize } from '../lib/stats.ts';
import { nodeName } from './edgemark.ts';
import type { Session } from './session.ts';

export const DEPLOY_NS = 'bench-deploy';
const NAME = 'web';

export type DeploymentBenchOptions = { replicas: number; nodes: number; timeoutMs: number };

type PodEv = {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec?: { nodeName?: string; containers?: Array<{ image?: string }> };
  status?: { phase?: string };
};

/**
 * A Deployment of `replicas` pods over `nodes` simulated edges (edgemark reports pods Running and Ready and
 * confirms deletions): create to every pod Running (per pod, from the Deployment's create, as the API's watch shows
 * it), then a rolling update of every pod (image change to `kubectl rollout status`'s "successfully rolled out").
 * Pods are bound by cloudcore's scheduler; where there is none (a probe pod stays unbound for 10 s), a bench
 * binder (named so in the figures) binds pods left unbound for a second, round-robin, so the controllers are
 * measured either way.
 */
export async function deploymentBench(s: Session, o: DeploymentBenchOptions, out: BenchOutcome): Promise<void> {
  const api = s.cloud.api;
  const names = Array.from({ length: o.nodes }, (_, i) => nodeName(i));
  out.params = { replicas: o.replicas, nodes: o.nodes, strategy: 'RollingUpdate 25% / 25% (defaults)', image: 'busybox (not run: edgemark reports Running)' };
  await s.fleet.add(names, 0);
  if (!(await waitUntil(() => s.watch.countReady(names) === o.nodes, 120_000, 200)))
    throw new Error(`only ${s.watch.countReady(names)} of ${o.nodes} simulated nodes Ready`);
  await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEPLOY_NS } });
  const scheduler = await schedulerAnswers(s);

  const errors: Record<string, number> = { create: 0, patch: 0, bind: 0, notRunning: 0, timeout: 0 };
  const runningAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const unbound = new Map<string, number>();
  let benchBound = 0;
  let next = 0;
  const w = api.watch(`/api/v1/namespaces/${DEPLOY_NS}/pods`, (type, pod: PodEv, at) => {
    const name = pod.metadata.name;
    if (!name.startsWith(`${NAME}-`)) return;
    if (type === 'DELETED') {
      unbound.delete(name);
      return;
    }
    if (!seenAt.has(name)) seenAt.set(name, at);
    if ((pod.spec?.nodeName ?? '') === '' && pod.metadata.deletionTimestamp === undefined) {
      if (!unbound.has(name)) unbound.set(name, at);
    } else unbound.delete(name);
    if (pod.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, at);
  });
  let binding = !scheduler;
  const binder = (async () => {
    while (binding) {
      const now = nowMs();
      for (const [name, since] of unbound) {
        if (now - since < 1000) continue;
        unbound.delete(name);
        const node = names[next++ % names.length] as string;
        const r = await api
          .request('PATCH', `/api/v1/namespaces/${DEPLOY_NS}/pods/${name}`, { spec: { nodeName: node } }, 'application/merge-patch+json')
          .catch(() => ({ status: 0 }));
        if (r.status === 200) benchBound++;
        else errors['bind'] = (errors['bind'] ?? 0) + 1;
      }
      await sleep(100);
    }
  })();
  const deployPath = `/apis/apps/v1/namespaces/${DEPLOY_NS}/deployments/${NAME}`;
  const complete = async (): Promise<boolean> => {
    const r = await api.request('GET', deployPath).catch(() => undefined);
    const d = r?.body as { metadata?: { generation?: number }; spec?: { replicas?: number }; status?: Record<string, number> } | undefined;
    const st = d?.status ?? {};
    const want = d?.spec?.replicas ?? -1;
    return (
      (st['observedGeneration'] ?? 0) >= (d?.metadata?.generation ?? 1) &&
      st['updatedReplicas'] === want &&
      st['replicas'] === want &&
      st['availableReplicas'] === want
    );
  };
  try {
    const usageP = measureUsage(s.cloud.daemon.pid, 5000);
    const t0 = nowMs();
    const r = await api.request('POST', `/apis/apps/v1/namespaces/${DEPLOY_NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: { app: NAME } },
        template: {
          metadata: { labels: { app: NAME } },
          spec: {
            nodeSelector: { 'node-role.kubernetes.io/edge': '' },
            tolerations: [{ operator: 'Exists' }],
            containers: [{ name: 'c', image: 'busybox:1', command: ['httpd', '-f', '-p', '8080'] }],
          },
        },
      },
    });
    if (r.status !== 201) {
      errors['create'] = (errors['create'] ?? 0) + 1;
      throw new Error(`create deployment: HTTP ${r.status}`);
    }
    const allRunning = await waitUntil(() => runningAt.size >= o.replicas, o.timeoutMs, 100);
    if (!allRunning) errors['notRunning'] = o.replicas - runningAt.size;
    const createdDone = await waitUntil(complete, o.timeoutMs, 100);
    const tCreateDone = nowMs();
    const usage = await usageP;
    const toRunning = summarize([...runningAt.values()].map((t) => t - t0));
    const firstPods = new Set(runningAt.keys());

    // Rolling update of every pod.
    await sleep(1000);
    const t1 = nowMs();
    const p = await api.request(
      'PATCH',
      deployPath,
      { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } },
      'application/strategic-merge-patch+json',
    );
    if (p.status !== 200) errors['patch'] = (errors['patch'] ?? 0) + 1;
    await sleep(200);
    const rolled = await waitUntil(complete, o.timeoutMs, 100);
    const tRolled = nowMs();
    if (!createdDone || !rolled) errors['timeout'] = (errors['timeout'] ?? 0) + 1;
    const newRunning = summarize([...runningAt.entries()].filter(([n]) => !firstPods.has(n)).map(([, t]) => t - t1));
    out.errors = errors;
    out.figures = {
      createToRunningMs: toRunning,
      createToCompleteMs: tCreateDone - t0,
      rollingUpdateMs: tRolled - t1,
      rollingUpdateNewPodRunningMs: newRunning,
      scheduler,
      podsBoundByBench: benchBound,
      cloudcoreDuringCreate: usage,
    };
    const binderNote = scheduler ? '; bound by the scheduler' : `; no scheduler: ${benchBound} pods bound by the bench binder after 1 s unbound`;
    out.rows.push(
      {
        metric: `create -> pod Running p50/p99`,
        value: `${fmt(toRunning.p50)} / ${fmt(toRunning.p99)} ms`,
        note: `${toRunning.n} of ${o.replicas} pods over ${o.nodes} simulated nodes, from the Deployment's create${binderNote}`,
      },
      { metric: 'create -> rollout complete', value: `${fmt(tCreateDone - t0)} ms`, note: 'all replicas updated and available in the Deployment status' },
      {
        metric: `rolling update of ${o.replicas}`,
        value: `${fmt(tRolled - t1)} ms`,
        note: `image change to rollout complete (maxSurge 25 %, maxUnavailable 25 %); new pods Running p50/p99 ${fmt(newRunning.p50)} / ${fmt(newRunning.p99)} ms`,
      },
      {
        metric: 'cloudcore during the create',
        value: usage ? `${fmt(usage.cpuPercent)} % / ${fmt(usage.rssPeakMiB)} MiB` : 'n/a',
        note: 'CPU % of one core / peak RSS, first 5 s',
      },
    );
  } finally {
    binding = false;
    await binder;
    w.stop();
  }
}

/** Whether something binds a pod that names no node (cloudcore's scheduler) within 10 s. */
async function schedulerAnswers(s: Session): Promise<boolean> {
  const api = s.cloud.api;
  const path = `/api/v1/namespaces/${DEPLOY_NS}/pods`;
  await api.request('POST', path, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'scheduler-probe' },
    spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'busybox:1' }] },
  });
  const bound = await waitUntil(
    async () => {
      const r = await api.request('GET', `${path}/scheduler-probe`).catch(() => undefined);
      return ((r?.body as { spec?: { nodeName?: string } } | undefined)?.spec?.nodeName ?? '') !== '';
    },
    10_000,
    200,
  );
  await api.request('DELETE', `${path}/scheduler-probe`, { gracePeriodSeconds: 0 }).catch(() => undefined);
  return bound;
}
