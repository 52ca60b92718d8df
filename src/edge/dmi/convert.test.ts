import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCustomized } from './api/codec.ts';
import { deviceKey, propertyTypes, stateUpdateTopic, toPbDevice, toPbDeviceModel, twinUpdatePayload, twinUpdateTopic } from './convert.ts';

const device = {
  apiVersion: 'devices.kubeedge.io/v1beta1',
  kind: 'Device',
  metadata: { name: 'pump-1', namespace: 'plant' },
  spec: {
    deviceModelRef: { name: 'pump' },
    nodeName: 'edge-a',
    protocol: { protocolName: 'modbus', configData: { ip: '10.0.0.5', port: 502, slaveID: 3 } },
    properties: [
      {
        name: 'flow',
        reportCycle: 5000,
        collectCycle: 1000,
        reportToCloud: true,
        visitors: { protocolName: 'modbus', configData: { register: 'InputRegister', offset: 4, limit: 2, scale: 0.01 } },
        pushMethod: {
          http: { hostName: 'collector', port: 8080, requestPath: '/ingest', timeout: 2000 },
          mqtt: { address: 'tcp://b:1883', topic: 't', qos: 1, retained: true },
        },
      },
      { name: 'speed', desired: { value: '1200', metadata: { type: 'int' } }, visitors: { protocolName: 'modbus' } },
    ],
  },
};
const model = {
  metadata: { name: 'pump', namespace: 'plant' },
  spec: { protocol: 'modbus', properties: [{ name: 'speed', type: 'INT', accessMode: 'ReadWrite', minimum: '0', maximum: '3000', unit: 'rpm' }] },
};

test("a v1beta1 Device becomes DMI's Device: name without namespace, model by name, configData packed, v1beta1's hostName/requestPath mapped", () => {
  const d = toPbDevice(device);
  assert.equal(d.name, 'pump-1');
  assert.equal(d.spec?.deviceModelReference, 'pump');
  assert.equal(d.spec?.protocol?.protocolName, 'modbus');
  assert.deepEqual(decodeCustomized(d.spec?.protocol?.configData), { ip: '10.0.0.5', port: 502, slaveID: 3 });
  const [flow, speed] = d.spec?.properties ?? [];
  assert.deepEqual(decodeCustomized(flow?.visitors?.configData), { register: 'InputRegister', offset: 4, limit: 2, scale: 0.01 });
  assert.deepEqual([flow?.reportCycle, flow?.collectCycle, flow?.reportToCloud], [5000, 1000, true]);
  assert.deepEqual(flow?.pushMethod?.http, { hostname: 'collector', port: 8080, requestpath: '/ingest', timeout: 2000 });
  assert.deepEqual(flow?.pushMethod?.mqtt, { address: 'tcp://b:1883', topic: 't', qos: 1, retained: true });
  assert.deepEqual(speed?.desired, { value: '1200', metadata: { type: 'int' } });
  assert.equal(speed?.visitors?.configData, null);
  assert.deepEqual([speed?.reportCycle, speed?.reportToCloud, speed?.pushMethod], [0, false, null]);
});

test("a DeviceModel becomes DMI's DeviceModel with its property facts", () => {
  const m = toPbDeviceModel(model);
  assert.equal(m.name, 'pump');
  assert.deepEqual(m.spec?.properties[0], { name: 'speed', description: '', type: 'INT', accessMode: 'ReadWrite', minimum: '0', maximum: '3000', unit: 'rpm' });
});

test('topics and keys carry the namespace; a device without one is in default', () => {
  assert.equal(twinUpdateTopic(deviceKey(device)), '$hw/events/device/plant/pump-1/twin/update');
  assert.equal(stateUpdateTopic(deviceKey({ metadata: { name: 'x' } })), '$hw/events/device/default/x/state/update');
});

test("a report becomes KubeEdge's twin update payload: reported as actual with a timestamp, the model's type, no expected", () => {
  const p = twinUpdatePayload(
    {
      deviceName: 'pump-1',
      reportedDevice: {
        twins: [
          { propertyName: 'speed', reported: { value: '1180', metadata: {} }, observedDesired: { value: '1200', metadata: {} } },
          { propertyName: 'nothing', reported: null },
          { propertyName: '', reported: { value: '1', metadata: {} } },
        ],
      },
    },
    propertyTypes(model),
    'ev-1',
    1700000000000,
  );
  assert.deepEqual(p, {
    event_id: 'ev-1',
    timestamp: 1700000000000,
    twin: { speed: { actual: { value: '1180', metadata: { timestamp: 1700000000000 } }, metadata: { type: 'int' } } },
  });
});

test('odd input converts without throwing: missing spec, wrong types', () => {
  assert.deepEqual(toPbDevice({ metadata: { name: 'a' }, spec: { properties: 'x' } }).spec?.properties, []);
  assert.equal(toPbDevice(null).name, '');
  assert.deepEqual(toPbDeviceModel(undefined).spec?.properties, []);
});
