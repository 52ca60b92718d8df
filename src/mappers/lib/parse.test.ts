import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPbDevice, toPbDeviceModel } from '../../edge/dmi/convert.ts';
import { formatValue, parseDesired, toMapperDevice } from './parse.ts';
import type { MapperProperty } from './types.ts';

const dev = {
  metadata: { name: 'thermo-1', namespace: 'default' },
  spec: {
    deviceModelRef: { name: 'virtual-thermometer' },
    protocol: { protocolName: 'virtual', configData: { seed: 7 } },
    properties: [
      {
        name: 'temperature',
        reportCycle: 2000,
        collectCycle: 1000,
        reportToCloud: true,
        visitors: { protocolName: 'virtual', configData: { generator: 'random', min: 18, max: 25 } },
      },
      { name: 'setpoint', desired: { value: '21' }, visitors: { protocolName: 'virtual', configData: { generator: 'register', initial: 20 } } },
    ],
  },
};
const model = {
  metadata: { name: 'virtual-thermometer' },
  spec: {
    properties: [
      { name: 'temperature', type: 'INT', accessMode: 'ReadOnly', minimum: '-40', maximum: '125' },
      { name: 'setpoint', type: 'INT', accessMode: 'ReadWrite', minimum: '5', maximum: '30' },
    ],
  },
};

test('a DMI device and its model make the mapper device: cycles, access mode, range, desired, decoded visitors', () => {
  const d = toMapperDevice(toPbDevice(dev), toPbDeviceModel(model));
  assert.equal(d.name, 'thermo-1');
  assert.equal(d.protocol, 'virtual');
  assert.deepEqual(d.protocolConfig, { seed: 7 });
  const [t, s] = d.properties;
  assert.deepEqual(
    { type: t?.type, mode: t?.accessMode, collect: t?.collectCycleMs, report: t?.reportCycleMs, cloud: t?.reportToCloud, visitor: t?.visitor },
    { type: 'int', mode: 'ReadOnly', collect: 1000, report: 2000, cloud: true, visitor: { generator: 'random', min: 18, max: 25 } },
  );
  assert.deepEqual(
    {
      mode: s?.accessMode,
      desired: s?.desired,
      min: s?.minimum,
      max: s?.maximum,
      collect: s?.collectCycleMs,
      report: s?.reportCycleMs,
      cloud: s?.reportToCloud,
    },
    { mode: 'ReadWrite', desired: '21', min: 5, max: 30, collect: 1000, report: 1000, cloud: false },
  );
});

test('without its model a property is read-only and a string', () => {
  const d = toMapperDevice(toPbDevice(dev), undefined);
  assert.deepEqual(
    d.properties.map((p) => [p.type, p.accessMode]),
    [
      ['string', 'ReadOnly'],
      ['string', 'ReadOnly'],
    ],
  );
});

const prop = (type: string, min?: number, max?: number): MapperProperty => ({
  name: 'p',
  type,
  accessMode: 'ReadWrite',
  ...(min !== undefined ? { minimum: min } : {}),
  ...(max !== undefined ? { maximum: max } : {}),
  visitor: {},
  desired: '',
  collectCycleMs: 1000,
  reportCycleMs: 1000,
  reportToCloud: true,
});

test('readings are formatted by type: int whole, float without noise digits, booleans', () => {
  assert.equal(formatValue(prop('int'), 21.6), '22');
  assert.equal(formatValue(prop('float'), 21.500000000000004), '21.5');
  assert.equal(formatValue(prop('boolean'), true), 'true');
  assert.equal(formatValue(prop('int'), true), '1');
  assert.equal(formatValue(prop('string'), 'on'), 'on');
});

test("desired values are checked against the model's type and range", () => {
  assert.equal(parseDesired(prop('int', 5, 30), '22'), 22);
  assert.equal(parseDesired(prop('int', 5, 30), '31'), undefined);
  assert.equal(parseDesired(prop('int', 5, 30), '4'), undefined);
  assert.equal(parseDesired(prop('int'), 'warm'), undefined);
  assert.equal(parseDesired(prop('int'), ''), undefined);
  assert.equal(parseDesired(prop('float'), '21.5'), 21.5);
  assert.equal(parseDesired(prop('boolean'), 'true'), true);
  assert.equal(parseDesired(prop('boolean'), 'maybe'), undefined);
  assert.equal(parseDesired(prop('string'), 'x'), 'x');
});
