import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlOk } from '../../../../helpers/apiserver.ts';
import { startBatchTestKubelet, startControlPlane, type BatchTestKubelet, type ControlPlaneTest } from '../../../../helpers/controlplane.ts';
import { kubectlPath, skipUnless, waitFor } from '../../../../helpers/tools.ts';
import { isNotFound } from '../../../../../src/kube/rest.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');

let cp: ControlPlaneTest;
let kubelet: BatchTestKubelet;
before(async () => {
  cp = await startControlPlane(['job', 'ttl-after-finished']);
  kubelet = startBatchTestKubelet(cp.admin, { fate: () => ({ phase: 'Succeeded' }) });
});
after(async () => {
  await kubelet?.stop();
  await cp?.cleanup();
});

function job(name: string, ttl?: number): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }),
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
}

async function exists(name: string): Promise<boolean> {
  try {
    await cp.admin.get(`/apis/batch/v1/namespaces/default/jobs/${name}`);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

test('a finished Job with ttlSecondsAfterFinished is deleted once the TTL has passed; one without a TTL stays', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], job('kept'));
  await kubectlOk(cp.api, ['apply', '-f', '-'], job('short', 3));
  const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/short', '--timeout=60s']);
  assert.equal(r.code, 0, r.stderr);
  const done = await cp.admin.get<{ status: { completionTime: string } }>('/apis/batch/v1/namespaces/default/jobs/short');
  await waitFor(async () => !(await exists('short')), 30_000, 100);
  // completionTime has whole seconds: the Job lived at least TTL - 1 s after it.
  assert.ok(Date.now() - Date.parse(done.status.completionTime) >= 2_000, 'not deleted before its TTL');
  const k = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/kept', '--timeout=60s']);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(await exists('kept'), true);
});

test('a TTL that passed while cloudcore was stopped is acted on after the restart', { skip }, async () => {
  await kubectlOk(cp.api, ['apply', '-f', '-'], job('while-down', 3));
  const r = await kubectl(cp.api, ['wait', '--for=condition=complete', 'job/while-down', '--timeout=60s']);
  assert.equal(r.code, 0, r.stderr);
  await cp.stop();
  await new Promise((res) => setTimeout(res, 3_500));
  assert.equal(await exists('while-down'), true);
  cp = await cp.restart();
  await waitFor(async () => !(await exists('while-down')), 30_000, 100);
});
