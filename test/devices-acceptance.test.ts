// Issue 11, "What it must show": after `keadm up --edge-nodes 1 --with-mapper virtual,modbus`, the manifests in
// ../shared/acceptance/devices/ work as they are (EDGE_NODE replaced by the node's name) and do what each file's
// comment says. The Modbus device is a Modbus TCP server on 127.0.0.1:15020, unit 1, that this test runs (jsmodbus's
// server: the device itself cannot run here). Needs DeviceController (cloud), DeviceTwin and EventBus (edge) too.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Modbus from 'jsmodbus';
import mqtt from 'mqtt';
import { runBin } from './helpers/daemon.ts';
import { ACCEPTANCE_DIR } from './helpers/dmi-kit.ts';
import { dockerSkip, ensureTestImages } from './helpers/docker.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const MODBUS_PORT = 15020; // the manifest's: the device is where the file says it is
const modbusPort = await bindablePort(MODBUS_PORT);
const skip =
  (await dockerSkip()) ||
  skipUnless(kubectlPath() !== undefined, 'kubectl') ||
  skipUnless(modbusPort === MODBUS_PORT, `port ${MODBUS_PORT} free for the Modbus simulator the manifest points at`);
const instance = `devtest${process.pid}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'ke-devices-'));
const stateRoot = path.join(root, 'state');
const node = 'edge-node-1';

after(async () => {
  if (skip === false) await runBin('keadm', ['reset', '--force', '--instance', instance]);
  rmSync(root, { recursive: true, force: true });
});

type Twin = { propertyName: string; reported?: { value?: string; metadata?: Record<string, string> }; observedDesired?: { value?: string } };
type Device = { status?: { twins?: Twin[] }; spec: { properties: Array<{ name: string }> } };

async function port(): Promise<number> {
  const p = await bindablePort(0);
  if (p === undefined) throw new Error('no free port');
  return p;
}

test('keadm up --with-mapper virtual,modbus: the acceptance device manifests work as they are', { skip, timeout: 1_200_000 }, async (t) => {
  await ensureTestImages();
  // the Modbus thermometer: holding register 0 the temperature in tenths, register 1 the setpoint
  const holding = Buffer.alloc(32);
  holding.writeUInt16BE(215, 0);
  const sim = net.createServer();
  const simSockets = new Set<net.Socket>();
  sim.on('connection', (s) => {
    simSockets.add(s);
    s.once('close', () => simSockets.delete(s));
  });
  new Modbus.server.TCP(sim, { holding });
  await new Promise<void>((r) => sim.listen(MODBUS_PORT, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of simSockets) s.destroy();
        sim.close(() => r());
      }),
  );

  const mqttPort = await port();
  const up = await runBin('keadm', [
    'up',
    '--edge-nodes',
    '1',
    '--with-mapper',
    'virtual,modbus',
    '--instance',
    instance,
    '--state-root',
    stateRoot,
    '--advertise-address',
    '127.0.0.1',
    '--websocket-port',
    String(await port()),
    '--https-port',
    String(await port()),
    '--apiserver-port',
    String(await port()),
    '--mqtt-port',
    String(mqttPort),
    '--tunnel-port',
    String(await port()),
    '--kubelet-port',
    String(await port()),
  ]);
  if (up.code !== 0) process.stderr.write(`${up.stdout}\n${up.stderr}\n`);
  assert.equal(up.code, 0);
  const broker = `mqtt://127.0.0.1:${mqttPort}`;
  assert.match(up.stdout, new RegExp(`${node} MQTT broker: ${broker.replaceAll('.', '\\.')}`));
  const kubeConfig = path.join(stateRoot, 'cloud', 'etc', 'kubeconfig');

  // the files as they are, EDGE_NODE replaced
  for (const f of readdirSync(ACCEPTANCE_DIR).filter((x) => x.endsWith('.yaml'))) {
    const file = path.join(root, f);
    writeFileSync(file, readFileSync(new URL(f, ACCEPTANCE_DIR), 'utf8').replaceAll('EDGE_NODE', node));
    await kubectl(kubeConfig, ['apply', '-f', file]);
  }
  const device = async (name: string) => JSON.parse(await kubectl(kubeConfig, ['get', 'device', name, '-o', 'json'])) as Device;
  const reported = async (name: string, prop: string) => (await device(name)).status?.twins?.find((x) => x.propertyName === prop)?.reported;
  const setDesired = async (name: string, prop: string, value: string) => {
    const i = (await device(name)).spec.properties.findIndex((p) => p.name === prop);
    await kubectl(kubeConfig, [
      'patch',
      'device',
      name,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: `/spec/properties/${i}/desired/value`, value }]),
    ]);
  };

  await t.test('virtual thermometer: a reported temperature in 18..25 that keeps being updated', async () => {
    const first = await waitFor(async () => {
      const r = await reported('thermo-1', 'temperature');
      return r?.value !== undefined && r.value !== '' ? r : undefined;
    }, 60_000);
    assert.ok(first);
    const v = Number(first.value);
    assert.ok(Number.isInteger(v) && v >= 18 && v <= 25, `temperature ${first.value} is an INT in 18..25`);
    // updated every 2 s: a later report carries a newer timestamp
    const stamp = first.metadata?.['timestamp'];
    await waitFor(async () => {
      const r = await reported('thermo-1', 'temperature');
      return r?.metadata?.['timestamp'] !== undefined && r.metadata['timestamp'] !== stamp;
    }, 60_000);
  });

  await t.test('virtual thermometer: the desired setpoint comes back as reported, and so does a changed one', async () => {
    await waitFor(async () => (await reported('thermo-1', 'setpoint'))?.value === '21', 60_000);
    await setDesired('thermo-1', 'setpoint', '24');
    await waitFor(async () => (await reported('thermo-1', 'setpoint'))?.value === '24', 60_000);
  });

  await t.test('modbus thermometer: register 0 scaled by 0.1 is the reported temperature, and follows a new register value', async () => {
    await waitFor(async () => (await reported('modbus-1', 'temperature'))?.value === '21.5', 60_000);
    holding.writeUInt16BE(198, 0);
    await waitFor(async () => (await reported('modbus-1', 'temperature'))?.value === '19.8', 60_000);
  });

  await t.test('modbus thermometer: the desired setpoint is written into register 1 and reported back', async () => {
    await waitFor(async () => holding.readUInt16BE(2) === 22, 60_000);
    await waitFor(async () => (await reported('modbus-1', 'setpoint'))?.value === '22', 60_000);
    await setDesired('modbus-1', 'setpoint', '17');
    await waitFor(async () => holding.readUInt16BE(2) === 17, 60_000);
    await waitFor(async () => (await reported('modbus-1', 'setpoint'))?.value === '17', 60_000);
  });

  await t.test("the edge's MQTT broker printed by keadm up shows KubeEdge's twin update results", async () => {
    const client = await mqtt.connectAsync(broker, { connectTimeout: 10_000, reconnectPeriod: 0 });
    try {
      const results: string[] = [];
      client.on('message', (topic, payload) => {
        if (topic === '$hw/events/device/default/thermo-1/twin/update/result' || topic.endsWith('/thermo-1/twin/update/result'))
          results.push(payload.toString());
      });
      await client.subscribeAsync('$hw/events/device/+/twin/update/result');
      await client.subscribeAsync('$hw/events/device/+/+/twin/update/result');
      const body = await waitFor(async () => results.at(-1), 60_000);
      assert.ok(body !== undefined);
      const parsed = JSON.parse(body) as { event_id?: unknown; timestamp?: unknown; twin?: Record<string, unknown> };
      assert.equal(typeof parsed.timestamp, 'number');
      assert.ok(parsed.twin !== undefined && typeof parsed.twin === 'object', 'a twin map');
    } finally {
      await client.endAsync(true);
    }
  });
});
