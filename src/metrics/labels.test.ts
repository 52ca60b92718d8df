import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceOfPath } from '../apiserver/request-metrics.ts';
import { dockerOperation } from '../containers/docker/client.ts';
import { newMessage } from '../core/message.ts';
import { boundedLabel, messageLabels } from './labels.ts';

const msg = (resource: string, operation: string) => newMessage({ source: 's', group: 'resource', operation, resource });

test('message labels: the resource type and operation, with or without the cloud node prefix', () => {
  assert.deepEqual(messageLabels(msg('default/pod/web', 'insert')), { type: 'pod', operation: 'insert' });
  assert.deepEqual(messageLabels(msg('node/edge-1/default/podstatus/web', 'update')), { type: 'podstatus', operation: 'update' });
  assert.deepEqual(messageLabels(msg('node', 'keepalive')), { type: 'node', operation: 'keepalive' });
});

test('a label from the wire that is long or odd becomes other, so a peer cannot grow the series', () => {
  assert.equal(boundedLabel('x'.repeat(41)), 'other');
  assert.equal(boundedLabel('a"b'), 'other');
  assert.equal(boundedLabel(undefined), 'other');
  assert.deepEqual(messageLabels(msg('default/{weird}/x', 'op\n')), { type: 'other', operation: 'other' });
});

test('API server request labels name the resource, never an object', () => {
  assert.equal(resourceOfPath('/api/v1/namespaces/default/pods/web'), 'pods');
  assert.equal(resourceOfPath('/api/v1/namespaces/default/pods/web/status'), 'pods/status');
  assert.equal(resourceOfPath('/apis/apps/v1/namespaces/ns/deployments'), 'deployments');
  assert.equal(resourceOfPath('/api/v1/nodes/n1'), 'nodes');
  assert.equal(resourceOfPath('/api/v1/namespaces/kube-system'), 'namespaces');
  assert.equal(resourceOfPath('/apis/metrics.k8s.io/v1beta1/nodes'), 'nodes');
  assert.equal(resourceOfPath('/openapi/v2'), '');
  assert.equal(resourceOfPath('/apis'), '');
});

test('Docker call labels keep the method and the kind of call, not ids or names', () => {
  assert.equal(dockerOperation('POST', '/containers/0123abcd/start'), 'POST containers/start');
  assert.equal(dockerOperation('GET', '/containers/json'), 'GET containers/json');
  assert.equal(dockerOperation('GET', '/containers/0123abcd/json'), 'GET containers/json');
  assert.equal(dockerOperation('DELETE', '/containers/0123abcd'), 'DELETE containers/{id}');
  assert.equal(dockerOperation('POST', '/containers/create'), 'POST containers/create');
  assert.equal(dockerOperation('GET', '/_ping'), 'GET _ping');
});
