import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { startBatchTestKubelet, startControlPlane, type BatchPodFate, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

let cp: ControlPlaneTest;
before(async () => {
  cp = await startControlPlane(['job']);
});
after(async () => {
  await cp?.cleanup();
});

function job(name: string, spec: Record<string, unknown>, restartPolicy = 'Never'): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { ...spec, template: { spec: { restartPolicy, containers: [{ name: 'work', image: 'busybox' }] } } },
  });
}

async function jobPods(name: string): Promise<KubeObject[]> {
  return (await cp.admin.get<{ items: KubeObject[] }>(`/api/v1/namespaces/default/pods?labelSelector=job-name%3D${name}`)).items;
}

async function getJob(name: string): Promise<{ status: Record<string, unknown> & { conditions?: Array<{ type: string; status: string; reason?: string }> } }> {
  return cp.admin.get(`/apis/batch/v1/namespaces/default/jobs/${name}`);
}

function phaseOf(p: KubeObject): string {
  return String((p['status'] as { phase?: string } | undefined)?.phase ?? 'Pending');
}

/** Pods run for `ms` after the kubelet first sees them, then end with `end`. */
function runFor(ms: number, end: (pod: KubeObject) => 'Succeeded' | 'Failed'): (pod: KubeObject) => BatchPodFate {
  const seen = new Map<string, number>();
  return (pod) => {
    const n = String(pod.metadata?.name);
    if (!seen.has(n)) seen.set(n, Date.now());
    return Date.now() - (seen.get(n) ?? 0) < ms ? { phase: 'Running', ready: true } : { phase: end(pod) };
  };
}

test('a Job with completions 3 and parallelism 2 never runs more than 2 pods and is Complete after 3 successes', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin, { fate: runFor(800, () => 'Succeeded') });
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('three', { completions: 3, parallelism: 2 }));
    let maxActive = 0;
    let complete = false;
    const watcher = (async () => {
      while (!complete) {
        const active = (await jobPods('three')).filter((p) => !['Succeeded', 'Failed'].includes(phaseOf(p)) && p.metadata?.['deletionTimestamp'] === undefined);
        maxActive = Math.max(maxActive, active.length);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/three', '--timeout=60s']);
    complete = true;
    await watcher;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(maxActive <= 2, `at most 2 pods ran at once (saw ${maxActive})`);
    assert.equal(maxActive, 2, 'parallelism 2 was used');
    const j = await getJob('three');
    assert.equal(j.status['succeeded'], 3);
    assert.equal(j.status['active'] ?? 0, 0);
    assert.ok(typeof j.status['completionTime'] === 'string');
    assert.deepEqual(
      j.status.conditions?.filter((c) => c.status === 'True').map((c) => c.type),
      ['SuccessCriteriaMet', 'Complete'],
    );
    const pods = await jobPods('three');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.deepEqual(p.metadata?.['finalizers'] ?? [], [], 'the job-tracking finalizer is removed once counted');
      const labels = p.metadata?.['labels'] as Record<string, string>;
      assert.equal(labels['batch.kubernetes.io/job-name'], 'three');
      assert.equal(labels['controller-uid'], labels['batch.kubernetes.io/controller-uid']);
    }
  } finally {
    await kubelet.stop();
  }
});

test('a Job whose pods keep failing is Failed with BackoffLimitExceeded after backoffLimit retries, the retry after a 10 s backoff', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin, { fate: runFor(200, () => 'Failed') });
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('fails', { backoffLimit: 1 }));
    const r = await kubectl(cp.api, ['wait', '--for=condition=failed', 'job/fails', '--timeout=90s']);
    assert.equal(r.code, 0, r.stderr);
    const j = await getJob('fails');
    assert.equal(j.status['failed'], 2);
    assert.equal(j.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.ok(j.status.conditions?.some((c) => c.type === 'FailureTarget' && c.status === 'True'));
    const pods = (await jobPods('fails')).sort((a, b) => String(a.metadata?.['creationTimestamp']).localeCompare(String(b.metadata?.['creationTimestamp'])));
    assert.equal(pods.length, 2, 'one pod and one retry');
    const gap = Date.parse(String(pods[1]?.metadata?.['creationTimestamp'])) - Date.parse(String(pods[0]?.metadata?.['creationTimestamp']));
    assert.ok(gap >= 9_000, `the retry waited for the backoff (${gap} ms)`);
    const events = await kubectlOk(cp.api, ['get', 'events', '--field-selector', 'involvedObject.name=fails', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /BackoffLimitExceeded/);
  } finally {
    await kubelet.stop();
  }
});

test('an Indexed Job gives each pod its completion index and records completedIndexes', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin, { fate: runFor(300, () => 'Succeeded') });
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('indexed', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/indexed', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const j = await getJob('indexed');
    assert.equal(j.status['completedIndexes'], '0-2');
    const pods = await jobPods('indexed');
    const indexes = pods.map((p) => ((p.metadata?.['annotations'] ?? {}) as Record<string, string>)['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(indexes, ['0', '1', '2']);
    const p0 = pods.find(
      (p) => ((p.metadata?.['annotations'] ?? {}) as Record<string, string>)['batch.kubernetes.io/job-completion-index'] === '0',
    ) as KubeObject;
    const spec = p0['spec'] as { hostname: string; containers: Array<{ env: Array<{ name: string }> }> };
    assert.equal(spec.hostname, 'indexed-0');
    assert.ok(spec.containers[0]?.env.some((e) => e.name === 'JOB_COMPLETION_INDEX'));
  } finally {
    await kubelet.stop();
  }
});

test('a Job past activeDeadlineSeconds is Failed with DeadlineExceeded and its pods are removed', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin);
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('slow', { activeDeadlineSeconds: 2, parallelism: 2, completions: 2 }));
    const r = await kubectl(cp.api, ['wait', '--for=condition=failed', 'job/slow', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const j = await getJob('slow');
    assert.equal(j.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'DeadlineExceeded');
    await waitFor(async () => (await jobPods('slow')).length === 0, 30_000);
  } finally {
    await kubelet.stop();
  }
});

test('a Job resumes after a cloudcore restart without losing or double-counting successes', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin, { fate: runFor(500, () => 'Succeeded') });
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('resume', { completions: 3, parallelism: 1 }));
    await waitFor(async () => Number((await getJob('resume')).status?.['succeeded'] ?? 0) >= 1, 30_000, 100);
    cp = await cp.restart();
    const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/resume', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await getJob('resume')).status['succeeded'], 3);
    assert.equal((await jobPods('resume')).length, 3);
  } finally {
    await kubelet.stop();
  }
});

test('a suspended Job runs no pods (its running ones are removed, not counted as failures) and runs again when resumed', { skip }, async () => {
  const kubelet = startBatchTestKubelet(cp.admin, { fate: runFor(1_500, () => 'Succeeded') });
  try {
    await kubectlOk(cp.api, ['apply', '-f', '-'], job('pausable', { completions: 2, parallelism: 2 }));
    await waitFor(async () => (await jobPods('pausable')).filter((p) => phaseOf(p) === 'Running').length === 2, 30_000, 100);
    await cp.admin.patch('/apis/batch/v1/namespaces/default/jobs/pausable', { spec: { suspend: true } }, 'merge');
    await waitFor(async () => (await getJob('pausable')).status.conditions?.some((c) => c.type === 'Suspended' && c.status === 'True'), 30_000, 100);
    await waitFor(async () => (await jobPods('pausable')).length === 0, 30_000, 100);
    const suspended = await getJob('pausable');
    assert.equal(suspended.status['failed'] ?? 0, 0);
    assert.equal(suspended.status['active'] ?? 0, 0);
    await cp.admin.patch('/apis/batch/v1/namespaces/default/jobs/pausable', { spec: { suspend: false } }, 'merge');
    const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/pausable', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const done = await getJob('pausable');
    assert.equal(done.status['succeeded'], 2);
    assert.equal(done.status.conditions?.find((c) => c.type === 'Suspended')?.status, 'False');
  } finally {
    await kubelet.stop();
  }
});
