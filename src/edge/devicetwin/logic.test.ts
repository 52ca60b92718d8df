import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTwinUpdate, twinDelta, valueFitsType } from './logic.ts';
import { parseTwinTopic } from './types.ts';

test('an edge update stores the reported value, bumps the edge version and reports it as KubeEdge does', () => {
  const r = applyTwinUpdate({ temperature: { optional: false, metadata: { type: 'int' } } }, { temperature: { actual: { value: '21' } } }, 'rest', 1000);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.twins['temperature']?.actual, { value: '21', metadata: { timestamp: 1000 } });
  assert.deepEqual(r.twins['temperature']?.actual_version, { cloud: 0, edge: 1 });
  assert.deepEqual(r.result['temperature'], { actual: { value: '21', metadata: { timestamp: 1000 } }, optional: false, metadata: { type: 'int' } });
  assert.deepEqual(r.sync['temperature']?.actual_version, { cloud: 0, edge: 1 });
  assert.deepEqual(r.document['temperature'], {
    last: { optional: false, metadata: { type: 'int' } },
    current: { actual: { value: '21', metadata: { timestamp: 1000 } }, optional: false, metadata: { type: 'int' } },
  });
});

test('a value that does not fit the twin type refuses the whole edge update', () => {
  const stored = { temperature: { optional: false, metadata: { type: 'int' } } };
  const r = applyTwinUpdate(stored, { temperature: { actual: { value: 'warm' } } }, 'rest', 1);
  assert.match(r.error ?? '', /not of type int/);
  assert.deepEqual(r.twins, stored);
  assert.deepEqual(r.changed, []);
});

test('a cloud state older than the stored one is refused and the newer edge state goes back to the cloud', () => {
  const stored = { setpoint: { expected: { value: '30' }, expected_version: { cloud: 3, edge: 0 }, optional: true, metadata: { type: 'int' } } };
  const stale = applyTwinUpdate(stored, { setpoint: { expected: { value: '10' }, expected_version: { cloud: 2, edge: 0 } } }, 'sync', 5);
  assert.equal(stale.twins['setpoint']?.expected?.value, '30');
  assert.deepEqual(stale.changed, []);
  assert.equal(stale.sync['setpoint']?.expected?.value, '30');
  const fresh = applyTwinUpdate(stored, { setpoint: { expected: { value: '40' }, expected_version: { cloud: 4, edge: 0 } } }, 'sync', 6);
  assert.equal(fresh.twins['setpoint']?.expected?.value, '40');
  assert.deepEqual(fresh.twins['setpoint']?.expected_version, { cloud: 4, edge: 0 });
  assert.deepEqual(fresh.changed, ['setpoint']);
});

test('delta lists expected values that differ from actual ones', () => {
  assert.equal(twinDelta({ a: { expected: { value: '1' }, actual: { value: '1' } } }), undefined);
  const d = twinDelta({ a: { expected: { value: '2' }, actual: { value: '1' }, expected_version: { cloud: 1, edge: 0 } } });
  assert.deepEqual(d?.delta, { a: '2' });
  assert.equal(d?.twin['a']?.expected_version, undefined, 'versions are not published');
});

test('types and topics', () => {
  assert.ok(valueFitsType('float', '21.5'));
  assert.ok(!valueFitsType('int', '21.5'));
  assert.ok(valueFitsType('boolean', 'true'));
  assert.deepEqual(parseTwinTopic('$hw/events/device/default/thermo/twin/update'), { kind: 'device', id: 'default/thermo', suffix: '/twin/update' });
  assert.deepEqual(parseTwinTopic('$hw/events/node/edge-1/membership/get'), { kind: 'node', node: 'edge-1', suffix: '/membership/get' });
  assert.equal(parseTwinTopic('$hw/events/device/default/thermo/twin/update/result'), undefined);
  assert.equal(parseTwinTopic('$hw/events/device/thermo'), undefined);
  assert.deepEqual(parseTwinTopic('$hw/events/device/thermo/twin/update'), { kind: 'device', id: 'thermo', suffix: '/twin/update', legacyName: 'thermo' });
  assert.equal(parseTwinTopic('$hw/events/device/thermo/twin/update/result'), undefined);
});

test('values must be strings and twins objects, as KubeEdge unmarshals them; nothing is stored otherwise', () => {
  const stored = { temperature: { optional: true, metadata: { type: 'int' } } };
  const num = applyTwinUpdate(stored, { temperature: { actual: { value: 21 as unknown as string } } }, 'rest', 1);
  assert.match(num.error ?? '', /must be a string/);
  assert.deepEqual(num.changed, []);
  const notObj = applyTwinUpdate(stored, { temperature: 'hot' as unknown as null }, 'rest', 1);
  assert.match(notObj.error ?? '', /not an object/);
});
