import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeletTarget, POD_STREAM_SUBRESOURCES } from './pod-streams.ts';
import type { KObj } from './store.ts';

const pod = (containers: string[], nodeName?: string): KObj =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'team-a', name: 'web' },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: containers.map((name) => ({ name })) },
  }) as unknown as KObj;

test("pods/log goes to the pod's node as the kubelet's /containerLogs with the log options kubectl sends", () => {
  const q = new URLSearchParams('follow=true&tailLines=5&timestamps=true&previous=true&pretty=true');
  assert.deepEqual(kubeletTarget(pod(['app'], 'edge-1'), 'log', q), {
    node: 'edge-1',
    path: '/containerLogs/team-a/web/app?follow=true&tailLines=5&timestamps=true&previous=true',
  });
});

test('exec and attach keep every command argument in order; portforward keeps the ports', () => {
  const q = new URLSearchParams('container=side&command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&tty=true');
  assert.deepEqual(kubeletTarget(pod(['app', 'side'], 'edge-1'), 'exec', q), {
    node: 'edge-1',
    path: '/exec/team-a/web/side?command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&tty=true',
  });
  assert.equal(kubeletTarget(pod(['app'], 'edge-1'), 'portforward', new URLSearchParams('ports=8080')).path, '/portForward/team-a/web?ports=8080');
});

test('answers as kube-apiserver: no node yet, several containers and none named, an unknown container', () => {
  assert.throws(() => kubeletTarget(pod(['app']), 'log', new URLSearchParams()), /pod web does not have a host assigned/);
  assert.throws(
    () => kubeletTarget(pod(['a', 'b'], 'n'), 'log', new URLSearchParams()),
    /a container name must be specified for pod web, choose one of: \[a b\]/,
  );
  assert.throws(() => kubeletTarget(pod(['a'], 'n'), 'exec', new URLSearchParams('container=zz')), /container zz is not valid for pod web/);
});

test('RBAC verbs: log is get, exec/attach/portforward are create (also for WebSocket GETs)', () => {
  assert.deepEqual(POD_STREAM_SUBRESOURCES, { log: 'get', exec: 'create', attach: 'create', portforward: 'create' });
});
