import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Bus } from '../../../../src/core/bus.ts';
import { contentAsObject, newMessage, type Message } from '../../../../src/core/message.ts';
import { ModuleRuntime } from '../../../../src/core/module.ts';
import { DeviceTwin } from '../../../../src/edge/devicetwin/devicetwin.ts';
import { MetaManager } from '../../../../src/edge/metamanager/metamanager.ts';
import { quietLog, Recorder, waitFor } from '../../../helpers/cloudhub.ts';

const dir = mkdtempSync(join(tmpdir(), 'twin-dmi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Edge = { bus: Bus; twin: DeviceTwin; dmi: Recorder; stop(): Promise<void> };

async function startEdge(db: string): Promise<Edge> {
  const log = quietLog('twin-dmi-test');
  const bus = new Bus(log);
  const dmi = new Recorder(bus, 'dmi', 'dmi');
  const rt = new ModuleRuntime(bus, log);
  rt.add(new MetaManager({ dataSource: db }));
  const twin = new DeviceTwin({ nodeName: 'edge-dmi', dataSource: db });
  rt.add(twin);
  await rt.start();
  return { bus, twin, dmi, stop: () => rt.stop() };
}

/** What DeviceController sends, handed to MetaManager as EdgeHub does. */
function fromCloud(bus: Bus, operation: string, resource: string, content: unknown): void {
  bus.send('metamanager', newMessage({ source: 'devicecontroller', group: 'resource', operation, resource, content }));
}

const model = {
  apiVersion: 'devices.kubeedge.io/v1beta1',
  kind: 'DeviceModel',
  metadata: { name: 'thermo-model', namespace: 'factory', resourceVersion: '3' },
  spec: {
    protocol: 'modbus',
    properties: [
      { name: 'temperature', type: 'FLOAT' },
      { name: 'setpoint', type: 'INT' },
    ],
  },
};

function device(setpoint: string, rv: string): Record<string, unknown> {
  return {
    apiVersion: 'devices.kubeedge.io/v1beta1',
    kind: 'Device',
    metadata: { name: 'thermo', namespace: 'factory', resourceVersion: rv },
    spec: {
      deviceModelRef: { name: 'thermo-model' },
      nodeName: 'edge-dmi',
      protocol: { protocolName: 'modbus', configData: { unit: 1 } },
      properties: [
        { name: 'temperature', visitors: { protocolName: 'modbus', configData: { register: 'HoldingRegister', offset: 0 } }, reportCycle: 1000 },
        { name: 'setpoint', desired: { value: setpoint }, visitors: { protocolName: 'modbus', configData: { register: 'HoldingRegister', offset: 1 } } },
      ],
    },
  };
}

function desiredOf(m: Message | undefined, prop: string): unknown {
  const c = m?.content as { device?: { spec?: { properties?: Array<{ name: string; desired?: { value?: unknown } }> } } } | undefined;
  return c?.device?.spec?.properties?.find((p) => p.name === prop)?.desired?.value;
}

describe('DeviceTwin <-> DMI module on the bus (contract B)', () => {
  test('devices reach dmi with model and desired values, dmi reports land in the twin, and a restart re-sends every device', async () => {
    const db = join(dir, 'edgecore.db');
    let edge = await startEdge(db);
    try {
      // v1.15's membership names the device by bare name; its object says the namespace
      edge.bus.send(
        'twin',
        newMessage({
          source: 'devicecontroller',
          group: 'twin',
          operation: 'update',
          resource: 'membership',
          content: { event_id: 'm', timestamp: 1, added_devices: [{ id: 'thermo', name: 'thermo' }], removed_devices: [] },
        }),
      );
      await waitFor(() => edge.twin.device('default/thermo') !== undefined, 'membership applied');
      fromCloud(edge.bus, 'insert', 'factory/devicemodel/thermo-model', model);
      fromCloud(edge.bus, 'insert', 'factory/device/thermo', device('25', '10'));
      await waitFor(() => edge.dmi.messages.some((m) => m.route.operation === 'insert'), 'insert to dmi');
      assert.equal(edge.twin.device('default/thermo'), undefined, 'the bare-name device moved to its namespace');
      const ins = edge.dmi.messages.find((m) => m.route.operation === 'insert');
      assert.deepEqual([ins?.route.source, ins?.route.group, ins?.route.resource], ['twin', 'dmi', 'device/factory/thermo']);
      assert.equal(desiredOf(ins, 'setpoint'), '25');
      assert.equal((ins?.content as { model?: { metadata?: { name?: string } } } | undefined)?.model?.metadata?.name, 'thermo-model');
      assert.equal(edge.twin.device('factory/thermo')?.twin?.['setpoint']?.metadata?.type, 'int', 'twin type from the model');

      edge.bus.send(
        'twin',
        newMessage({
          source: 'dmi',
          group: 'twin',
          operation: 'update',
          resource: '$hw/events/device/factory/thermo/twin/update',
          content: JSON.stringify({
            event_id: 'r1',
            timestamp: Date.now(),
            twin: { temperature: { actual: { value: '21.5', metadata: { timestamp: Date.now() } }, metadata: { type: 'float' } } },
          }),
        }),
      );
      await waitFor(() => edge.twin.device('factory/thermo')?.twin?.['temperature']?.actual?.value === '21.5', 'mapper report stored');

      const reply = await edge.bus.request('twin', newMessage({ source: 'dmi', group: 'twin', operation: 'query', resource: 'dmi/devices' }), 5000);
      const items = (contentAsObject(reply) as { items: Array<{ device: { metadata: { name: string } }; model: unknown }> }).items;
      assert.deepEqual(
        items.map((i) => i.device.metadata.name),
        ['thermo'],
      );

      fromCloud(edge.bus, 'update', 'factory/device/thermo', device('30', '11'));
      await waitFor(() => edge.dmi.messages.some((m) => m.route.operation === 'update' && desiredOf(m, 'setpoint') === '30'), 'changed desired to dmi');

      await edge.stop();
      edge = await startEdge(db);
      await waitFor(() => edge.dmi.messages.some((m) => m.route.operation === 'insert'), 'stored devices re-sent after restart');
      assert.equal(
        desiredOf(
          edge.dmi.messages.find((m) => m.route.operation === 'insert'),
          'setpoint',
        ),
        '30',
      );
      assert.equal(edge.twin.device('factory/thermo')?.twin?.['temperature']?.actual?.value, '21.5');

      fromCloud(edge.bus, 'delete', 'factory/device/thermo', device('30', '12'));
      await waitFor(() => edge.dmi.messages.some((m) => m.route.operation === 'delete'), 'delete to dmi');
      assert.deepEqual(edge.dmi.messages.find((m) => m.route.operation === 'delete')?.content, {
        device: { metadata: { namespace: 'factory', name: 'thermo' } },
      });
      assert.equal(edge.twin.device('factory/thermo'), undefined);
    } finally {
      await edge.stop();
    }
  });
});

describe('membership from the cloud', () => {
  test('membership/detail makes the node hold exactly the listed devices; a removed device goes to dmi as delete; bad content is refused', async () => {
    const edge = await startEdge(join(dir, 'members.db'));
    try {
      const toTwin = (resource: string, content: unknown) =>
        edge.bus.send('twin', newMessage({ source: 'devicecontroller', group: 'twin', operation: 'update', resource, content }));
      toTwin('membership', { event_id: 'a', timestamp: 1, added_devices: [{ id: 'default/old', name: 'old' }], removed_devices: [] });
      await waitFor(() => edge.twin.device('default/old') !== undefined, 'old added');
      toTwin('membership', { added_devices: 'not a list' });
      toTwin('membership/detail', { event_id: 'd', timestamp: 2, devices: null });
      toTwin('membership/detail', {
        event_id: 'd',
        timestamp: 3,
        devices: [{ id: 'default/new', name: 'new', twin: { mode: { expected: { value: 'eco' }, metadata: { type: 'string' } } } }],
      });
      await waitFor(() => edge.twin.device('default/new') !== undefined && edge.twin.device('default/old') === undefined, 'detail applied');
      assert.equal(edge.twin.device('default/new')?.twin?.['mode']?.expected?.value, 'eco');
      assert.ok(edge.twin.stats.rejected >= 2, 'bad membership content counted');
      await waitFor(() => edge.dmi.messages.some((m) => m.route.operation === 'delete' && m.route.resource === 'device/default/old'), 'delete to dmi');
    } finally {
      await edge.stop();
    }
  });
});
