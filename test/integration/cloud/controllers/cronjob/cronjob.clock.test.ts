// The CronJob controller against a real API server with a clock the test moves (the controller's "now" is
// injectable), so minutes of schedule pass in milliseconds: concurrency policies, missed runs, deadlines,
// history limits and suspend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../../helpers/apiserver.ts';
import { quietLog } from '../../../../helpers/cloudhub.ts';
import { waitFor } from '../../../../helpers/tools.ts';
import { Bus } from '../../../../../src/core/bus.ts';
import { loadKubeConfig } from '../../../../../src/kube/client.ts';
import { type KubeObject, KubeRest } from '../../../../../src/kube/rest.ts';
import { CloudInformers } from '../../../../../src/cloud/common/informers/informers.ts';
import { CronJobController } from '../../../../../src/cloud/controllers/cronjob/controller.ts';

let server: TestServer;
let admin: KubeRest;
let kube: KubeRest;
let ctl: CronJobController;
let clock = Date.now();
const MIN = 60_000;

before(async () => {
  server = await startTestServer();
  admin = new KubeRest(loadKubeConfig({ kubeConfig: server.kubeConfigPath }));
  const kc = loadKubeConfig({ kubeConfig: server.cloudcoreKubeConfigPath });
  kube = new KubeRest(kc);
  const log = quietLog('cronjob-clock-test');
  const informers = new CloudInformers({ kc, kube, log, allNodes: true, backoff: { initialMs: 50, maxMs: 500 } });
  ctl = new CronJobController({ kube, informers, log: () => log }, { now: () => clock });
  await ctl.module.start({ bus: new Bus(log), log, signal: new AbortController().signal });
});
after(async () => {
  await ctl?.module.stop();
  kube?.close();
  admin?.close();
  await server?.cleanup();
});

async function createCronJob(name: string, spec: Record<string, unknown>): Promise<number> {
  const cj = await admin.create('/apis/batch/v1/namespaces/default/cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
  });
  return Date.parse(String(cj.metadata?.['creationTimestamp']));
}

/** Moves the clock to `ms` and has the controller look at `name` again. */
function at(ms: number, name: string): void {
  clock = ms;
  ctl.module.enqueue(`default/${name}`);
}

const nextMinute = (ms: number): number => Math.floor(ms / MIN) * MIN + MIN;

async function jobsOf(name: string): Promise<KubeObject[]> {
  const all = (await admin.get<{ items: KubeObject[] }>('/apis/batch/v1/namespaces/default/jobs')).items;
  return all.filter((j) => (j.metadata?.['ownerReferences'] as Array<{ name: string }> | undefined)?.[0]?.name === name);
}

async function complete(job: KubeObject, type: 'Complete' | 'Failed' = 'Complete'): Promise<void> {
  const now = new Date(clock).toISOString().replace(/\.\d+Z$/, 'Z');
  await admin.patch(
    `/apis/batch/v1/namespaces/default/jobs/${job.metadata?.name}/status`,
    { status: { startTime: now, conditions: [{ type, status: 'True', lastTransitionTime: now }], ...(type === 'Complete' ? { completionTime: now } : {}) } },
    'merge',
  );
}

async function reasons(name: string): Promise<string[]> {
  const ev = await admin.get<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>('/api/v1/namespaces/default/events');
  return ev.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason);
}

/** Waits until the CronJob's Jobs are exactly `want` (sorted names). */
async function jobNames(name: string, want: string[]): Promise<string[]> {
  let last: string[] = [];
  try {
    await waitFor(
      async () => {
        last = (await jobsOf(name))
          .filter((j) => j.metadata?.['deletionTimestamp'] === undefined)
          .map((j) => String(j.metadata?.name))
          .sort();
        return JSON.stringify(last) === JSON.stringify(want);
      },
      20_000,
      100,
    );
  } catch {
    // fall through: the assertion below shows what was there
  }
  return last;
}

test('fake clock: concurrencyPolicy Forbid skips a run while one is active, and starts the missed run when it ends', async () => {
  const created = await createCronJob('forbid', { concurrencyPolicy: 'Forbid' });
  const t1 = nextMinute(created);
  at(t1 + 5_000, 'forbid');
  assert.deepEqual(await jobNames('forbid', [`forbid-${t1 / MIN}`]), [`forbid-${t1 / MIN}`]);
  at(t1 + MIN + 5_000, 'forbid');
  await waitFor(async () => (await reasons('forbid')).includes('JobAlreadyActive'), 20_000, 100);
  assert.equal((await jobsOf('forbid')).length, 1, 'no second Job while the first runs');
  await complete((await jobsOf('forbid'))[0] as KubeObject);
  ctl.module.enqueue('default/forbid');
  const both = [`forbid-${t1 / MIN}`, `forbid-${t1 / MIN + 1}`];
  assert.deepEqual(await jobNames('forbid', both), both);
});

test('fake clock: concurrencyPolicy Replace deletes the active Job and starts the new one; Allow runs them side by side', async () => {
  const created = await createCronJob('replace', { concurrencyPolicy: 'Replace' });
  const t1 = nextMinute(created);
  at(t1 + 1_000, 'replace');
  assert.deepEqual(await jobNames('replace', [`replace-${t1 / MIN}`]), [`replace-${t1 / MIN}`]);
  at(t1 + MIN + 1_000, 'replace');
  assert.deepEqual(await jobNames('replace', [`replace-${t1 / MIN + 1}`]), [`replace-${t1 / MIN + 1}`], 'the active Job was replaced');

  const c2 = await createCronJob('allow', {});
  const a1 = nextMinute(c2);
  at(a1 + 1_000, 'allow');
  assert.deepEqual(await jobNames('allow', [`allow-${a1 / MIN}`]), [`allow-${a1 / MIN}`]);
  at(a1 + MIN + 1_000, 'allow');
  const two = [`allow-${a1 / MIN}`, `allow-${a1 / MIN + 1}`];
  assert.deepEqual(await jobNames('allow', two), two);
});

test('fake clock: after a long stop only the latest missed run starts, and more than 100 missed runs are reported', async () => {
  const created = await createCronJob('missed', {});
  at(created + 3 * 60 * MIN, 'missed');
  const latest = [`missed-${Math.floor(clock / MIN)}`];
  assert.deepEqual(await jobNames('missed', latest), latest);
  await waitFor(async () => (await reasons('missed')).includes('TooManyMissedTimes'), 20_000, 100);
  const cj = await admin.get<{ status: { lastScheduleTime: string; active: unknown[] } }>('/apis/batch/v1/namespaces/default/cronjobs/missed');
  assert.equal(Date.parse(cj.status.lastScheduleTime), Math.floor(clock / MIN) * MIN);
  assert.equal(cj.status.active.length, 1);
});

test('fake clock: a run later than startingDeadlineSeconds is not started; the next one on time is', async () => {
  const created = await createCronJob('late', { startingDeadlineSeconds: 10, schedule: '0 * * * *' });
  const hour = Math.floor(created / (60 * MIN)) * 60 * MIN + 60 * MIN;
  at(hour + 30_000, 'late');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await jobsOf('late')).length, 0, 'the run 30 s late (deadline 10 s) was not started');
  at(hour + 60 * MIN + 5_000, 'late');
  const next = [`late-${(hour + 60 * MIN) / MIN}`];
  assert.deepEqual(await jobNames('late', next), next);
});

test('fake clock: finished Jobs beyond the history limits are deleted, oldest first; suspend stops new runs', async () => {
  const created = await createCronJob('history', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 });
  const t1 = nextMinute(created);
  for (let i = 0; i < 3; i++) {
    at(t1 + i * MIN + 1_000, 'history');
    const names = await waitFor(
      async () => {
        const js = await jobsOf('history');
        return js.find((j) => j.metadata?.name === `history-${t1 / MIN + i}`);
      },
      20_000,
      100,
    );
    await complete(names as KubeObject, i === 2 ? 'Failed' : 'Complete');
  }
  ctl.module.enqueue('default/history');
  const kept = [`history-${t1 / MIN + 1}`];
  assert.deepEqual(await jobNames('history', kept), kept, 'one Complete kept, the Failed one and the oldest removed');
  const cj = await admin.get<{ status: { lastSuccessfulTime?: string } }>('/apis/batch/v1/namespaces/default/cronjobs/history');
  assert.ok(cj.status.lastSuccessfulTime !== undefined);
  await admin.patch('/apis/batch/v1/namespaces/default/cronjobs/history', { spec: { suspend: true } }, 'merge');
  await new Promise((r) => setTimeout(r, 300));
  at(t1 + 5 * MIN + 1_000, 'history');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    (await jobsOf('history')).map((j) => j.metadata?.name),
    [`history-${t1 / MIN + 1}`],
  );
});
