import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TwinStore } from './store.ts';

test('device, attributes, twins with their versions and the pending flag read back as written', () => {
  const s = new TwinStore(':memory:');
  s.putDevice({ id: 'default/thermo', name: 'thermo', attributes: { vendor: { value: 'acme', optional: false, metadata: { type: 'string' } } } });
  const twin = {
    temperature: { actual: { value: '21', metadata: { timestamp: 5 } }, actual_version: { cloud: 0, edge: 2 }, optional: true, metadata: { type: 'int' } },
    setpoint: { expected: { value: '25', metadata: { timestamp: 6 } }, expected_version: { cloud: 1, edge: 0 }, optional: true, metadata: { type: 'int' } },
  };
  s.putTwins('default/thermo', twin, ['temperature', 'setpoint'], true);
  const [d] = s.loadAll();
  assert.equal(d?.id, 'default/thermo');
  assert.deepEqual(d?.attributes, { vendor: { value: 'acme', optional: false, metadata: { type: 'string' } } });
  assert.deepEqual(d?.twin, twin);
  assert.deepEqual(s.pending(), ['default/thermo']);
  s.setPending('default/thermo', false);
  assert.deepEqual(s.pending(), []);
  s.deleteDevice('default/thermo');
  assert.deepEqual(s.loadAll(), []);
  s.close();
});
