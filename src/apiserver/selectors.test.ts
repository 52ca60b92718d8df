import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { findResource } from './resources.ts';
import { podStatusReason } from './podstatus.ts';
import { humanDuration } from './tables.ts';

const o = (labels: Record<string, string>) => ({ metadata: { labels } });

test('label selectors: =, ==, !=, in, notin, exists, !exists', () => {
  const x = o({ app: 'web', tier: 'fe' });
  const cases: [string, boolean][] = [
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['tier in (fe, be)', true],
    ['tier notin (fe)', false],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier in (be)', false],
    ['missing!=x', true],
  ];
  for (const [sel, want] of cases) assert.equal(parseLabelSelector(sel)(x), want, sel);
  assert.throws(() => parseLabelSelector('a b c'), /unable to parse/);
});

test('field selectors: supported fields per resource, unknown ones rejected', () => {
  const pods = findResource('', 'v1', 'pods')!;
  const p = { metadata: { name: 'a', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  assert.equal(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', pods)(p), true);
  assert.equal(parseFieldSelector('metadata.name==b', pods)(p), false);
  assert.throws(() => parseFieldSelector('spec.foo=1', pods), /not a known field selector/);
  const events = findResource('', 'v1', 'events')!;
  assert.equal(parseFieldSelector('involvedObject.kind=Node,involvedObject.name=n1', events)({ involvedObject: { kind: 'Node', name: 'n1' } }), true);
});

test('pod STATUS column follows kubectl', () => {
  const waiting = (reason: string) => ({ status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason } } }] }, spec: { containers: [{}] } });
  assert.equal(podStatusReason(waiting('ContainerCreating')), 'ContainerCreating');
  assert.equal(podStatusReason(waiting('CrashLoopBackOff')), 'CrashLoopBackOff');
  assert.equal(podStatusReason(waiting('ImagePullBackOff')), 'ImagePullBackOff');
  assert.equal(
    podStatusReason({ status: { phase: 'Succeeded', containerStatuses: [{ state: { terminated: { reason: 'Completed', exitCode: 0 } } }] } }),
    'Completed',
  );
  assert.equal(podStatusReason({ status: { phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 2 } } }] } }), 'ExitCode:2');
  assert.equal(podStatusReason({ status: { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] } }), 'Running');
  assert.equal(podStatusReason({ metadata: { deletionTimestamp: 'x' }, status: { phase: 'Running' } }), 'Terminating');
  assert.equal(
    podStatusReason({
      spec: { initContainers: [{ name: 'i' }, { name: 'j' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] },
    }),
    'Init:0/2',
  );
});

test('AGE formatting matches HumanDuration', () => {
  assert.equal(humanDuration(5_000), '5s');
  assert.equal(humanDuration(150_000), '2m30s');
  assert.equal(humanDuration(30 * 60_000), '30m');
  assert.equal(humanDuration(5 * 3600_000 + 60_000), '5h1m');
  assert.equal(humanDuration(3 * 86400_000), '3d');
});

test('field selectors a Job and a ReplicaSet offer: status.successful is the succeeded count, 0 when unset', () => {
  const job = findResource('batch', 'v1', 'jobs');
  const rs = findResource('apps', 'v1', 'replicasets');
  assert.ok(job !== undefined && rs !== undefined);
  assert.equal(parseFieldSelector('status.successful=2', job)({ status: { succeeded: 2 } }), true);
  assert.equal(parseFieldSelector('status.successful=0', job)({ status: {} }), true);
  assert.equal(parseFieldSelector('status.replicas=0', rs)({}), true);
  assert.equal(parseFieldSelector('status.replicas!=0', rs)({ status: { replicas: 3 } }), true);
});
