import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlOk } from '../../../../helpers/apiserver.ts';
import { startBatchTestKubelet, startControlPlane, type BatchTestKubelet, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import type { KubeObject } from '../../../../../src/kube/rest.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

let cp: ControlPlaneTest;
let kubelet: BatchTestKubelet;
before(async () => {
  cp = await startControlPlane(['cronjob', 'job']);
  kubelet = startBatchTestKubelet(cp.admin, { fate: () => ({ phase: 'Succeeded' }) });
});
after(async () => {
  await kubelet?.stop();
  await cp?.cleanup();
});

test('a CronJob scheduled every minute creates a Job named after its schedule time, which runs and completes (real clock)', {
  skip,
  timeout: 150_000,
}, async () => {
  await kubectlOk(
    cp.api,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick', namespace: 'default' },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    }),
  );
  const job = await waitFor(async () => {
    const jobs = (await cp.admin.get<{ items: KubeObject[] }>('/apis/batch/v1/namespaces/default/jobs')).items;
    return jobs.find((j) => j.metadata?.name?.startsWith('tick-'));
  }, 80_000);
  assert.ok(job !== undefined);
  const scheduled = ((job.metadata?.['annotations'] ?? {}) as Record<string, string>)['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? '';
  assert.equal(job.metadata?.name, `tick-${Math.floor(Date.parse(scheduled) / 60_000)}`);
  assert.equal(new Date(scheduled).getUTCSeconds(), 0);
  const cj = await waitFor(async () => {
    const c = await cp.admin.get<{ status?: { lastScheduleTime?: string; lastSuccessfulTime?: string; active?: unknown[] } }>(
      '/apis/batch/v1/namespaces/default/cronjobs/tick',
    );
    return c.status?.lastSuccessfulTime !== undefined ? c : undefined;
  }, 60_000);
  assert.equal(cj?.status?.lastScheduleTime, scheduled);
  const out = await kubectlOk(cp.api, ['get', 'jobs', '-o', 'jsonpath={.items[*].metadata.ownerReferences[0].name}']);
  assert.match(out, /tick/);
});
