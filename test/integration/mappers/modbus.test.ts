import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Modbus from 'jsmodbus';
import { Bus } from '../../../src/core/bus.ts';
import { logger } from '../../../src/core/log.ts';
import { DmiModule } from '../../../src/edge/dmi/dmi.ts';
import { Mapper } from '../../../src/mappers/lib/mapper.ts';
import { modbusDriver } from '../../../src/mappers/modbus/driver.ts';
import { TwinStandIn, acceptanceObjects, withDesired, type DeviceEntry } from '../../helpers/dmi-kit.ts';
import { waitFor } from '../../helpers/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'mapper-modbus-'));
after(() => rmSync(root, { recursive: true, force: true }));
const log = logger('modbus-test');

/** A Modbus TCP simulator on loopback: jsmodbus's server over a holding-register buffer the test reads and writes. */
async function simulator(port = 0, holding = Buffer.alloc(64)): Promise<{ port: number; holding: Buffer; close: () => Promise<void> }> {
  const netServer = net.createServer();
  const sockets = new Set<net.Socket>();
  netServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  new Modbus.server.TCP(netServer, { holding });
  await new Promise<void>((r) => netServer.listen(port, '127.0.0.1', r));
  return {
    port: (netServer.address() as net.AddressInfo).port,
    holding,
    // the device going away: its connections drop too
    close: () =>
      new Promise<void>((r) => {
        netServer.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** The acceptance manifest pointed at the simulator's port (the file's 15020 is the acceptance test's). */
function atPort(e: DeviceEntry, port: number): DeviceEntry {
  const d = structuredClone(e.device) as { spec: { protocol: { configData: Record<string, unknown> } } };
  d.spec.protocol.configData['port'] = port;
  return { device: d as unknown as Record<string, unknown>, model: e.model };
}

describe('modbus mapper against a Modbus TCP simulator on loopback (jsmodbus server), DMI through the real module, a fake DeviceTwin', () => {
  test('reports holding register 0 scaled by 0.1, writes the desired setpoint into register 1, and follows a new desired value', async () => {
    const sim = await simulator();
    const bus = new Bus(log);
    const twin = new TwinStandIn(bus);
    const dmi = new DmiModule({ enable: true, sockPath: join(root, 'dmi.sock') });
    await dmi.start({ bus, log, signal: new AbortController().signal });
    const mapper = new Mapper({
      driver: modbusDriver,
      name: 'modbus-mapper',
      version: 'test',
      edgecoreSock: join(root, 'dmi.sock'),
      sockPath: join(root, 'mapper-modbus.sock'),
      log,
      registerRetryMs: 200,
    });
    try {
      sim.holding.writeUInt16BE(215, 0); // 21.5 degrees in tenths
      const dev = atPort(acceptanceObjects('modbus-thermometer.yaml', 'edge-a'), sim.port);
      twin.send('insert', dev);
      await mapper.start();
      await waitFor(async () => twin.reported('default', 'modbus-1', 'temperature').at(-1) === '21.5', 15_000, 100);

      // someone else writes the register: the new reading is reported
      sim.holding.writeUInt16BE(198, 0);
      await waitFor(async () => twin.reported('default', 'modbus-1', 'temperature').at(-1) === '19.8', 15_000, 100);

      // the desired setpoint (22 in the manifest) lands in register 1 and is reported back
      await waitFor(async () => sim.holding.readUInt16BE(2) === 22, 15_000, 100);
      await waitFor(async () => twin.reported('default', 'modbus-1', 'setpoint').at(-1) === '22', 15_000, 100);

      twin.send('update', withDesired(dev, 'setpoint', '27'));
      await waitFor(async () => sim.holding.readUInt16BE(2) === 27, 15_000, 100);
      await waitFor(async () => twin.reported('default', 'modbus-1', 'setpoint').at(-1) === '27', 15_000, 100);

      // out of the model's range (5..30): refused, the register keeps its value
      const refusedBefore = mapper.runner('modbus-1')?.counters.writeErrors ?? 0;
      twin.send('update', withDesired(dev, 'setpoint', '99'));
      await waitFor(async () => (mapper.runner('modbus-1')?.counters.writeErrors ?? 0) > refusedBefore, 15_000, 100);
      assert.equal(sim.holding.readUInt16BE(2), 27);
    } finally {
      await mapper.stop();
      await dmi.stop();
      await sim.close();
    }
  });

  test('a simulator that goes away and comes back on the same port: the mapper reconnects and reports again', async () => {
    const sim = await simulator();
    const bus = new Bus(log);
    const twin = new TwinStandIn(bus);
    const sock = join(root, 'dmi2.sock');
    const dmi = new DmiModule({ enable: true, sockPath: sock });
    await dmi.start({ bus, log, signal: new AbortController().signal });
    const mapper = new Mapper({
      driver: modbusDriver,
      name: 'modbus-mapper',
      version: 'test',
      edgecoreSock: sock,
      sockPath: join(root, 'mapper-modbus2.sock'),
      log,
      registerRetryMs: 200,
    });
    let sim2: Awaited<ReturnType<typeof simulator>> | undefined;
    try {
      sim.holding.writeUInt16BE(100, 0);
      twin.send('insert', atPort(acceptanceObjects('modbus-thermometer.yaml', 'edge-a'), sim.port));
      await mapper.start();
      await waitFor(async () => twin.reported('default', 'modbus-1', 'temperature').at(-1) === '10', 15_000, 100);
      const port = sim.port;
      await sim.close();
      // a new server on the same port with another reading
      const holding = Buffer.alloc(64);
      holding.writeUInt16BE(333, 0);
      sim2 = await simulator(port, holding);
      await waitFor(async () => twin.reported('default', 'modbus-1', 'temperature').at(-1) === '33.3', 20_000, 200);
    } finally {
      await mapper.stop();
      await dmi.stop();
      await sim2?.close();
    }
  });
});
