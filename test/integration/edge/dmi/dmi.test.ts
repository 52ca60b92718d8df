import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { Bus } from '../../../../src/core/bus.ts';
import { logger } from '../../../../src/core/log.ts';
import { contentAsObject } from '../../../../src/core/message.ts';
import { call, dmiClient } from '../../../../src/edge/dmi/api/grpc.ts';
import type { MapperRegisterResponse } from '../../../../src/edge/dmi/api/types.ts';
import { decodeCustomized } from '../../../../src/edge/dmi/api/codec.ts';
import { DmiModule } from '../../../../src/edge/dmi/dmi.ts';
import { Mapper } from '../../../../src/mappers/lib/mapper.ts';
import { virtualDriver } from '../../../../src/mappers/virtual/driver.ts';
import { TwinStandIn, acceptanceObjects, withDesired } from '../../../helpers/dmi-kit.ts';
import { waitFor } from '../../../helpers/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'dmi-'));
after(() => rmSync(root, { recursive: true, force: true }));
const log = logger('dmi-test');
let n = 0;

async function startDmi(dir: string) {
  const bus = new Bus(log);
  const twin = new TwinStandIn(bus);
  const dmi = new DmiModule({ enable: true, sockPath: join(dir, 'dmi.sock') });
  const ac = new AbortController();
  await dmi.start({ bus, log, signal: ac.signal });
  return { bus, twin, dmi, sock: join(dir, 'dmi.sock'), stop: () => dmi.stop() };
}

const mapperInfo = (address: string, protocol = 'virtual') => ({
  name: `${protocol}-mapper`,
  version: 'test',
  api_version: 'v1beta1',
  protocol,
  address: Buffer.from(address),
  state: 'OK',
});

describe('DMI server over a unix socket, with a fake DeviceTwin on the bus (DeviceTwin is another module)', () => {
  test('MapperRegister with withData answers with the devices and models of that protocol only, configData as KubeEdge packs it', async () => {
    const dir = join(root, `t${n++}`);
    const e = await startDmi(dir);
    const client: Client = dmiClient('DeviceManagerService', e.sock);
    try {
      e.twin.devices.set('default/thermo-1', acceptanceObjects('virtual-thermometer.yaml', 'edge-a'));
      e.twin.devices.set('default/modbus-1', acceptanceObjects('modbus-thermometer.yaml', 'edge-a'));
      // a device DMI heard of that DeviceTwin no longer has is not handed out
      e.twin.send('insert', {
        ...acceptanceObjects('virtual-thermometer.yaml', 'edge-a'),
        device: { ...acceptanceObjects('virtual-thermometer.yaml', 'edge-a').device, metadata: { name: 'gone', namespace: 'default' } },
      });
      e.twin.devices.delete('default/gone');
      const res = await call<MapperRegisterResponse>(client, 'MapperRegister', { withData: true, mapper: mapperInfo(join(dir, 'm.sock')) });
      assert.deepEqual(
        res.deviceList.map((d) => d.name),
        ['thermo-1'],
      );
      assert.deepEqual(
        res.modelList.map((m) => m.name),
        ['virtual-thermometer'],
      );
      const d = res.deviceList[0];
      assert.equal(d?.spec?.deviceModelReference, 'virtual-thermometer');
      assert.deepEqual(decodeCustomized(d?.spec?.protocol?.configData), { seed: 7 });
      const temp = d?.spec?.properties.find((p) => p.name === 'temperature');
      assert.deepEqual(decodeCustomized(temp?.visitors?.configData), { generator: 'random', min: 18, max: 25 });
      assert.equal(temp?.reportCycle, 2000);
      assert.equal(temp?.collectCycle, 1000);
      assert.equal(temp?.reportToCloud, true);
      assert.equal(d?.spec?.properties.find((p) => p.name === 'setpoint')?.desired?.value, '21');
      assert.equal(res.modelList[0]?.spec?.properties.find((p) => p.name === 'setpoint')?.accessMode, 'ReadWrite');
    } finally {
      client.close();
      await e.stop();
    }
  });

  test('MapperRegister without a protocol is refused with INVALID_ARGUMENT', async () => {
    const dir = join(root, `t${n++}`);
    const e = await startDmi(dir);
    const client = dmiClient('DeviceManagerService', e.sock);
    try {
      await assert.rejects(
        call(client, 'MapperRegister', { withData: true, mapper: { ...mapperInfo('/x'), protocol: '' } }),
        (err: { code?: number }) => err.code === 3,
      );
      assert.equal(e.dmi.counters.rejected, 1);
    } finally {
      client.close();
      await e.stop();
    }
  });

  test("ReportDeviceStatus reaches DeviceTwin as the twin update an MQTT client would publish, and the device's state as online", async () => {
    const dir = join(root, `t${n++}`);
    const e = await startDmi(dir);
    const client = dmiClient('DeviceManagerService', e.sock);
    try {
      const thermo = acceptanceObjects('virtual-thermometer.yaml', 'edge-a');
      e.twin.send('insert', thermo);
      // a report with nothing in it is not passed on (DeviceTwin would only answer it with an error)
      await call(client, 'ReportDeviceStatus', { deviceName: 'thermo-1', reportedDevice: { twins: [] } });
      await call(client, 'ReportDeviceStatus', {
        deviceName: 'thermo-1',
        reportedDevice: { twins: [{ propertyName: 'temperature', reported: { value: '21', metadata: { type: 'int' } }, observedDesired: { value: '' } }] },
      });
      const update = await waitFor(async () => e.twin.received.find((m) => m.route.resource === '$hw/events/device/default/thermo-1/twin/update'), 5000);
      assert.ok(update);
      assert.deepEqual(
        { source: update.route.source, group: update.route.group, operation: update.route.operation },
        { source: 'dmi', group: 'twin', operation: 'update' },
      );
      const body = contentAsObject(update) as { event_id: string; timestamp: number; twin: Record<string, unknown> };
      assert.equal(typeof body.event_id, 'string');
      assert.equal(typeof body.timestamp, 'number');
      const t = body.twin['temperature'] as { actual: { value: string; metadata: { timestamp: number } }; metadata: { type: string }; expected?: unknown };
      assert.equal(t.actual.value, '21');
      assert.equal(typeof t.actual.metadata.timestamp, 'number');
      assert.equal(t.metadata.type, 'int');
      assert.equal(t.expected, undefined, 'a report never sets the desired side');
      assert.equal(
        e.twin.received.filter((m) => m.route.resource === '$hw/events/device/default/thermo-1/twin/update').length,
        1,
        'only the report with a value',
      );
      const state = await waitFor(async () => e.twin.received.find((m) => m.route.resource === '$hw/events/device/default/thermo-1/state/update'), 5000);
      assert.ok(state);
      assert.equal((contentAsObject(state) as { state: string }).state, 'online');
    } finally {
      client.close();
      await e.stop();
    }
  });

  test('a socket path that cannot be bound stops the module with one clear line naming the path and the key', async () => {
    const dir = join(root, `t${n++}`);
    mkdirSync(dir, { recursive: true });
    const blocker = join(dir, 'not-a-socket');
    writeFileSync(blocker, 'x');
    const dmi = new DmiModule({ enable: true, sockPath: blocker });
    await assert.rejects(
      dmi.start({ bus: new Bus(log), log, signal: new AbortController().signal }),
      (err: Error & { code?: string }) =>
        err.code === 'KE_DMI_SOCKET' && err.message.includes(blocker) && err.message.includes('modules.deviceTwin.dmiSockPath'),
    );
    const dmi2 = new DmiModule({ enable: true, sockPath: join(blocker, 'dmi.sock') });
    await assert.rejects(
      dmi2.start({ bus: new Bus(log), log, signal: new AbortController().signal }),
      (err: Error & { code?: string }) => err.code === 'KE_DMI_SOCKET',
    );
  });

  test('a mapper started before edgecore registers as soon as the DMI socket is there, and gets its devices', async () => {
    const dir = join(root, `t${n++}`);
    mkdirSync(dir, { recursive: true });
    const sock = join(dir, 'dmi.sock');
    const mapper = new Mapper({
      driver: virtualDriver,
      name: 'virtual-mapper',
      version: 'test',
      edgecoreSock: sock,
      sockPath: join(dir, 'm.sock'),
      log,
      registerRetryMs: 200,
    });
    let e: Awaited<ReturnType<typeof startDmi>> | undefined;
    try {
      await mapper.start();
      // several registrations fail first: nothing listens yet
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(mapper.registered, false);
      e = await startDmi(dir);
      e.twin.devices.set('default/thermo-1', acceptanceObjects('virtual-thermometer.yaml', 'edge-a'));
      await waitFor(async () => mapper.deviceNames().includes('thermo-1'), 10_000, 100);
      await waitFor(async () => e?.twin.reported('default', 'thermo-1', 'temperature').at(-1), 10_000, 100);
    } finally {
      await mapper.stop();
      await e?.stop();
    }
  });

  test('a device that changes protocol moves from one mapper to the other', async () => {
    const dir = join(root, `t${n++}`);
    const e = await startDmi(dir);
    const mk = (protocol: string) =>
      new Mapper({
        driver: { ...virtualDriver, protocol },
        name: `${protocol}-mapper`,
        version: 'test',
        edgecoreSock: e.sock,
        sockPath: join(dir, `${protocol}.sock`),
        log,
        registerRetryMs: 200,
      });
    const a = mk('virtual');
    const b = mk('simulated');
    try {
      await a.start();
      await b.start();
      await waitFor(async () => a.registered && b.registered, 10_000, 100);
      const thermo = acceptanceObjects('virtual-thermometer.yaml', 'edge-a');
      e.twin.send('insert', thermo);
      await waitFor(async () => a.deviceNames().includes('thermo-1'), 10_000, 100);
      const moved = structuredClone(thermo);
      (moved.device as { spec: { protocol: { protocolName: string } } }).spec.protocol.protocolName = 'simulated';
      e.twin.send('update', moved);
      await waitFor(async () => b.deviceNames().includes('thermo-1') && !a.deviceNames().includes('thermo-1'), 10_000, 100);
    } finally {
      await a.stop();
      await b.stop();
      await e.stop();
    }
  });

  test('virtual mapper: devices handed over by DeviceTwin report, desired writes come back, and both survive a mapper and an edgecore restart', async () => {
    const dir = join(root, `t${n++}`);
    let e = await startDmi(dir);
    const mapperSock = join(dir, 'mapper-virtual.sock');
    const newMapper = () =>
      new Mapper({ driver: virtualDriver, name: 'virtual-mapper', version: 'test', edgecoreSock: e.sock, sockPath: mapperSock, log, registerRetryMs: 200 });
    let mapper = newMapper();
    try {
      await mapper.start();
      await waitFor(async () => mapper.registered, 10_000, 100);
      const thermo = acceptanceObjects('virtual-thermometer.yaml', 'edge-a');
      e.twin.send('insert', thermo);
      const temp = await waitFor(async () => e.twin.reported('default', 'thermo-1', 'temperature').at(-1), 10_000, 100);
      assert.ok(Number(temp) >= 18 && Number(temp) <= 25, `temperature ${temp} in 18..25`);
      await waitFor(async () => e.twin.reported('default', 'thermo-1', 'setpoint').at(-1) === '21', 10_000, 100);

      e.twin.send('update', withDesired(thermo, 'setpoint', '26'));
      await waitFor(async () => e.twin.reported('default', 'thermo-1', 'setpoint').at(-1) === '26', 10_000, 100);

      // mapper restart: it registers again and gets the device (and its desired value) from edgecore
      await mapper.stop();
      mapper = newMapper();
      await mapper.start();
      await waitFor(async () => mapper.deviceNames().includes('thermo-1'), 10_000, 100);
      e.twin.received.length = 0;
      await waitFor(async () => e.twin.reported('default', 'thermo-1', 'setpoint').at(-1) === '26', 10_000, 100);

      // edgecore restart: a new DMI module on the same socket; DeviceTwin hands its devices over again
      await e.stop();
      e = await startDmi(dir);
      e.twin.send('insert', withDesired(thermo, 'setpoint', '12'));
      await waitFor(async () => e.twin.reported('default', 'thermo-1', 'setpoint').at(-1) === '12', 15_000, 100);

      // removal reaches the mapper
      e.twin.send('delete', thermo);
      await waitFor(async () => !mapper.deviceNames().includes('thermo-1'), 10_000, 100);
    } finally {
      await mapper.stop();
      await e.stop();
    }
  });
});
