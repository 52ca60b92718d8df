// Issue 11 without a container engine: cloudcore (embedded API server), edgecore (edged off: no pods here) and the
// two mappers as processes from the sources, a Modbus TCP simulator on loopback (jsmodbus's server: the device
// itself cannot run here), and kubectl. The shared acceptance manifests are applied with EDGE_NODE replaced and the
// Modbus device's port moved to the simulator's (this test's ports are its own); the chain is the one
// `keadm up --with-mapper` builds: Device -> DeviceController -> DeviceTwin -> DMI -> mapper -> device and back.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Modbus from 'jsmodbus';
import { startTestCloud } from './helpers/cloud.ts';
import { spawnDaemon, startDaemon, tailLogsOnFailure, type Daemon } from './helpers/daemon.ts';
import { ACCEPTANCE_DIR } from './helpers/dmi-kit.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

const skip = skipUnless(kubectlPath() !== undefined, 'kubectl');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-devproc-'));
const node = 'dev-edge-1';
const daemons: Daemon[] = [];

after(async () => {
  for (const d of daemons.reverse()) await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function port(): Promise<number> {
  const p = await bindablePort(0);
  if (p === undefined) throw new Error('no free port');
  return p;
}

type Twin = { propertyName: string; reported?: { value?: string } };
type Device = { status?: { twins?: Twin[] }; spec: { properties: Array<{ name: string }> } };

test('devices end to end as processes: virtual and Modbus thermometers report, desired setpoints reach the devices, across a mapper and an edgecore restart', {
  skip,
  timeout: 600_000,
}, async (t) => {
  const holding = Buffer.alloc(32);
  holding.writeUInt16BE(215, 0);
  const sim = net.createServer();
  const simSockets = new Set<net.Socket>();
  sim.on('connection', (s) => {
    simSockets.add(s);
    s.once('close', () => simSockets.delete(s));
  });
  new Modbus.server.TCP(sim, { holding });
  await new Promise<void>((r) => sim.listen(0, '127.0.0.1', r));
  const simPort = (sim.address() as net.AddressInfo).port;
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of simSockets) s.destroy();
        sim.close(() => r());
      }),
  );

  const ports = { ws: await port(), https: await port(), api: await port() };
  const cloud = await startTestCloud(dir, ports);
  daemons.push(cloud.daemon);
  const dmiSock = path.join(dir, 'edge', 'dmi', 'dmi.sock');
  mkdirSync(path.dirname(dmiSock), { recursive: true });
  const edgeConfig = path.join(dir, 'edgecore.yaml');
  writeFileSync(
    edgeConfig,
    `database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged:
    enable: false
    hostnameOverride: ${node}
  edgeHub:
    token: "${cloud.token}"
    httpServer: https://127.0.0.1:${ports.https}
    websocket: {server: 127.0.0.1:${ports.ws}}
    tlsCaFile: ${dir}/edge/rootCA.crt
    tlsCertFile: ${dir}/edge/server.crt
    tlsPrivateKeyFile: ${dir}/edge/server.key
  deviceTwin: {enable: true, dmiSockPath: ${dmiSock}}
  eventBus: {enable: true, mqttMode: 0, mqttServerInternal: "tcp://127.0.0.1:${await port()}"}
`,
  );
  const edgeLog = path.join(dir, 'edgecore.log');
  const startEdge = () => startDaemon('edgecore', ['--config', edgeConfig], edgeLog);
  let edge = startEdge();
  daemons.push(edge);
  const mapperLog = (p: string) => path.join(dir, `mapper-${p}.log`);
  const startMapper = (p: 'virtual' | 'modbus') =>
    spawnDaemon(process.execPath, [`src/cmd/mapper-${p}.ts`, '--edgecore-sock', dmiSock], mapperLog(p), { ...process.env, LOG_LEVEL: 'debug' });
  let virtual = startMapper('virtual');
  const modbus = startMapper('modbus');
  daemons.push(virtual, modbus);
  const passed = tailLogsOnFailure(t, [path.join(dir, 'cloudcore.log'), edgeLog, mapperLog('virtual'), mapperLog('modbus')]);

  for (const f of ['virtual-thermometer.yaml', 'modbus-thermometer.yaml']) {
    const file = path.join(dir, f);
    writeFileSync(file, readFileSync(new URL(f, ACCEPTANCE_DIR), 'utf8').replaceAll('EDGE_NODE', node).replace('port: 15020', `port: ${simPort}`));
    await kubectl(cloud.kubeconfig, ['apply', '-f', file]);
  }
  const device = async (name: string) => JSON.parse(await kubectl(cloud.kubeconfig, ['get', 'device', name, '-o', 'json'])) as Device;
  const reported = async (name: string, prop: string) => (await device(name)).status?.twins?.find((x) => x.propertyName === prop)?.reported?.value;
  const setDesired = async (name: string, prop: string, value: string) => {
    const i = (await device(name)).spec.properties.findIndex((p) => p.name === prop);
    await kubectl(cloud.kubeconfig, [
      'patch',
      'device',
      name,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'replace', path: `/spec/properties/${i}/desired/value`, value }]),
    ]);
  };

  const temp = await waitFor(async () => reported('thermo-1', 'temperature'), 60_000);
  assert.ok(Number(temp) >= 18 && Number(temp) <= 25, `virtual temperature ${temp} in 18..25`);
  await waitFor(async () => (await reported('thermo-1', 'setpoint')) === '21', 60_000);
  await waitFor(async () => (await reported('modbus-1', 'temperature')) === '21.5', 60_000);
  await waitFor(async () => holding.readUInt16BE(2) === 22, 60_000);
  await waitFor(async () => (await reported('modbus-1', 'setpoint')) === '22', 60_000);

  await setDesired('thermo-1', 'setpoint', '24');
  await setDesired('modbus-1', 'setpoint', '17');
  await waitFor(async () => (await reported('thermo-1', 'setpoint')) === '24', 60_000);
  await waitFor(async () => holding.readUInt16BE(2) === 17, 60_000);
  await waitFor(async () => (await reported('modbus-1', 'setpoint')) === '17', 60_000);

  // the virtual mapper restarts: its register starts again at `initial`, and the desired 24 is written again
  await virtual.stop();
  virtual = startMapper('virtual');
  daemons.push(virtual);
  await waitFor(async () => (await reported('thermo-1', 'setpoint')) === '24', 60_000);

  // edgecore restarts while the mappers keep running: a desired value changed meanwhile reaches the device
  await edge.stop();
  await setDesired('modbus-1', 'setpoint', '26');
  edge = startEdge();
  daemons.push(edge);
  await waitFor(async () => holding.readUInt16BE(2) === 26, 90_000);
  holding.writeUInt16BE(240, 0);
  await waitFor(async () => (await reported('modbus-1', 'temperature')) === '24', 90_000);
  passed();
});
