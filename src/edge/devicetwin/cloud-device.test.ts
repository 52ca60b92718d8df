// Regression tests for what `npm run fuzz -- --target edgehub` found: membership messages whose devices had a
// non-string id (`{"devices":[{"id":1,"name":"dev1"}]}`) or whose added_devices was an object
// (`{"added_devices":{}}`) reached DeviceTwin's code as TypeErrors ("twin message failed" with a stack trace).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloudDevice, cloudDevices } from './cloud-device.ts';

test('a device with a number id falls back to its name; one with neither is left out', () => {
  assert.deepEqual(cloudDevice({ id: 1, name: 'dev1' }), { id: 'dev1', name: 'dev1' });
  assert.equal(cloudDevice({ id: 1 }), undefined);
  assert.equal(cloudDevice(null), undefined);
  assert.deepEqual(cloudDevices([{ id: 'ns/d', twin: { t: { expected: { value: '1' } }, bad: 3 }, attributes: 'x' }, 7, {}]), [
    { id: 'ns/d', twin: { t: { expected: { value: '1' } } } },
  ]);
});

test('added_devices that is not a list is refused, absent is empty', () => {
  assert.equal(cloudDevices({}), undefined);
  assert.equal(cloudDevices(5), undefined);
  assert.deepEqual(cloudDevices(undefined), []);
  assert.deepEqual(cloudDevices(null), []);
});
