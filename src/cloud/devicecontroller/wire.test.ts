import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MalformedMessageError } from '../../core/errors.ts';
import { toMessage, type Message } from '../../core/message.ts';
import type { KubeObject } from '../../kube/rest.ts';
import { stripNodePrefix, withNodePrefix } from '../cloudhub/routing.ts';
import { membershipDetailMessage, membershipUpdateMessage, objectMessage, parseUpstream, twinAckMessage } from './wire.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'devices');
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
/** An edge frame as CloudHub hands it to the devicecontroller: `node/<id>/` in front of the resource. */
const fromEdge = (name: string, node = 'edge-1'): Message => withNodePrefix(node, toMessage(fixture(name)));
/** What the edge sees of a downstream message. */
const toEdge = (m: Message): Message => {
  const d = stripNodePrefix(m);
  assert.ok(d !== undefined, 'downstream messages carry node/<id>/');
  return d.msg;
};

const device: KubeObject = {
  apiVersion: 'devices.kubeedge.io/v1beta1',
  kind: 'Device',
  metadata: { name: 'thermo-1', namespace: 'default', uid: 'u1', resourceVersion: '42', labels: { description: 'a thermometer' } },
  spec: { nodeName: 'edge-1', deviceModelRef: { name: 'virtual-thermometer' }, properties: [{ name: 'setpoint', desired: { value: '21' } }] },
};

test('membership update: group twin, resource membership, added_devices/removed_devices with id = name (KubeEdge v1.15)', () => {
  const m = membershipUpdateMessage('edge-1', { added: [device] });
  const want = fixture('membership-update-expected.json') as { route: unknown; content: Record<string, unknown> };
  const edge = toEdge(m);
  assert.deepEqual(edge.route, want.route);
  const c = edge.content as Record<string, unknown>;
  assert.match(String(c['event_id']), /^[0-9a-f-]{36}$/);
  assert.equal(typeof c['timestamp'], 'number');
  assert.deepEqual({ ...c, event_id: '<uuid>', timestamp: 0 }, want.content);
  const removed = toEdge(membershipUpdateMessage('edge-1', { removed: [device] })).content as Record<string, unknown>;
  assert.deepEqual(removed['added_devices'], [], 'an empty list, not null: the edge ranges over both');
  assert.deepEqual(removed['removed_devices'], [{ id: 'thermo-1', name: 'thermo-1', description: 'a thermometer' }]);
});

test('device and model resources: node/<n>/<ns>/device/<name> with the whole object, kind/apiVersion set, resourceVersion in the header', () => {
  const m = objectMessage('edge-1', 'insert', 'Device', { ...device, kind: undefined } as unknown as KubeObject);
  const edge = toEdge(m);
  assert.deepEqual(edge.route, { source: 'devicecontroller', group: 'resource', operation: 'insert', resource: 'default/device/thermo-1' });
  assert.equal(edge.header.resourceversion, '42');
  const c = edge.content as KubeObject;
  assert.equal(c.kind, 'Device');
  assert.equal(c.apiVersion, 'devices.kubeedge.io/v1beta1');
  assert.deepEqual(c['spec'], device['spec'], 'desired values travel in spec.properties[].desired');
  const model: KubeObject = { metadata: { name: 'virtual-thermometer', namespace: 'default', uid: 'm1', resourceVersion: '7' }, spec: { protocol: 'virtual' } };
  const mm = toEdge(objectMessage('edge-1', 'delete', 'DeviceModel', model));
  assert.equal(mm.route.resource, 'default/devicemodel/virtual-thermometer');
  assert.equal((mm.content as KubeObject).kind, 'DeviceModel');
});

test("the edge's twin report (twin/edge_updated) gives reported and observedDesired values with type and timestamp", () => {
  const up = parseUpstream(fromEdge('twin-edge-updated.json'));
  assert.equal(up.kind, 'twin');
  if (up.kind !== 'twin') return;
  assert.equal(up.nodeId, 'edge-1');
  assert.equal(up.deviceId, 'thermo-1');
  assert.equal(up.msgId, '6f1c2d4e-9a7b-4c1e-8f3a-2b5d6e7f8a90');
  assert.deepEqual(up.twins, {
    temperature: { reported: { value: '21', metadata: { timestamp: '1795993799990', type: 'int' } } },
    setpoint: {
      reported: { value: '20', metadata: { timestamp: '1795993799990', type: 'int' } },
      observedDesired: { value: '21', metadata: { timestamp: '1795993790000', type: 'int' } },
    },
  });
});

test("the edge's state report (content as JSON text) gives state and last_online", () => {
  const up = parseUpstream(fromEdge('state-update.json'));
  assert.deepEqual(up, {
    kind: 'state',
    nodeId: 'edge-1',
    deviceId: 'thermo-1',
    msgId: '0b3e7d1a-5c2f-4e8b-9d6a-1f2e3d4c5b6a',
    state: 'online',
    lastOnlineTime: '2026-11-29 23:10:01',
  });
});

test("the real edge's membership/detail request (wire recording) is answered with the node's devices in group twin, not as a reply", () => {
  const req = fromEdge('membership-detail-request.json', 'wire-edge-1');
  assert.deepEqual(parseUpstream(req), { kind: 'detail', nodeId: 'wire-edge-1' });
  const answer = membershipDetailMessage('wire-edge-1', [{ ...device, metadata: { ...device.metadata, labels: {} } }]);
  const edge = toEdge(answer);
  const want = fixture('membership-detail-expected.json') as { route: unknown; content: Record<string, unknown> };
  assert.deepEqual(edge.route, want.route);
  assert.equal(edge.header.parent_msg_id, undefined, "KubeEdge's DeviceTwin reads a twin message with a parent id as a confirmation only");
  assert.deepEqual({ ...(edge.content as Record<string, unknown>), event_id: '<uuid>', timestamp: 0 }, want.content);
});

test('a report is confirmed with KubeEdge\'s "OK" on node/<n>/twin, parent = the report', () => {
  const edge = toEdge(twinAckMessage('edge-1', 'abc'));
  assert.deepEqual(edge.route, { source: 'devicecontroller', group: 'twin', operation: 'response', resource: 'twin' });
  assert.equal(edge.content, 'OK');
  assert.equal(edge.header.parent_msg_id, 'abc');
});

test('bad edge input is a MalformedMessageError, never a crash', () => {
  const base = toMessage(fixture('twin-edge-updated.json'));
  const bad = (resource: string, content: unknown): Message => ({ ...base, route: { ...base.route, resource }, content });
  for (const m of [
    bad('device/x/twin/edge_updated', null),
    bad('node/edge-1/device/x/twin/edge_updated', 'not json'),
    bad('node/edge-1/device/x/twin/edge_updated', { twin: [] }),
    bad('node/edge-1/device/x/state/update', { device: { state: 'exploded' } }),
    bad('node/edge-1/device/x/somethingelse', {}),
  ]) {
    assert.throws(() => parseUpstream(m), MalformedMessageError, m.route.resource);
  }
  const partial = parseUpstream(bad('node/edge-1/device/x/twin/edge_updated', { twin: { a: 5, b: { actual: { value: 3 } }, c: { actual: { value: 'ok' } } } }));
  assert.deepEqual(
    partial.kind === 'twin' ? partial.twins : undefined,
    { c: { reported: { value: 'ok', metadata: {} } } },
    'entries without a string value are skipped',
  );
});
