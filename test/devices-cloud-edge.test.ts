import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { startTestCloud } from './helpers/cloud.ts';
import { startDaemon, type Daemon } from './helpers/daemon.ts';
import { acceptanceManifest } from './helpers/devices.ts';
import { waitPort } from './helpers/mqtt.ts';
import { bindablePort, kubectl, kubectlPath, skipUnless, waitFor } from './helpers/tools.ts';

// cloudcore and edgecore as processes (edged off: no container engine needed), the device going both ways:
// kubectl -> DeviceController -> EdgeHub -> DeviceTwin, and an MQTT twin update on the edge -> Device status.
const skip = skipUnless(kubectlPath() !== undefined, 'kubectl is needed');
const dir = mkdtempSync(path.join(tmpdir(), 'devices-e2e-'));
const port = async () => (await bindablePort(0)) as number;
const ports = { ws: await port(), https: await port(), api: await port() };
const mqttPort = await port();
const NODE = 'device-edge-1';
let cloud: Daemon | undefined;
let edge: Daemon | undefined;
let kubeconfig = '';

type Status = {
  twins?: { propertyName: string; reported?: { value: string }; observedDesired?: { value: string } }[];
  state?: string;
  lastOnlineTime?: string;
};

before(async () => {
  if (skip !== false) return;
  const tc = await startTestCloud(dir, ports);
  cloud = tc.daemon;
  kubeconfig = tc.kubeconfig;
  const cfg = path.join(dir, 'edgecore.yaml');
  writeFileSync(
    cfg,
    `apiVersion: edgecore.config.kubeedge.io/v1alpha2
kind: EdgeCore
database:
  dataSource: ${dir}/edge/edgecore.db
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged:
    enable: false
    hostnameOverride: ${NODE}
  edgeHub:
    token: "${tc.token}"
    httpServer: https://127.0.0.1:${ports.https}
    websocket: {server: 127.0.0.1:${ports.ws}}
    tlsCaFile: ${dir}/edge/rootCA.crt
    tlsCertFile: ${dir}/edge/server.crt
    tlsPrivateKeyFile: ${dir}/edge/server.key
  eventBus:
    mqttMode: 0
    mqttServerInternal: tcp://127.0.0.1:${mqttPort}
  deviceTwin:
    dmiSockPath: ${dir}/dmi.sock
`,
  );
  edge = startDaemon('edgecore', ['--config', cfg], path.join(dir, 'edgecore.log'), { CHECK_EDGECORE_ENVIRONMENT: 'false' });
  await waitPort(mqttPort, 30_000);
});

after(async () => {
  await edge?.stop();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const status = async (): Promise<Status> =>
  (parseYaml(await kubectl(kubeconfig, ['get', 'device', 'thermo-1', '-n', 'default', '-o', 'yaml'])) as { status?: Status }).status ?? {};

test('a Device applied with kubectl reaches the edge twin; an MQTT twin update and state show in kubectl get device; a desired change comes back observed', {
  skip,
  timeout: 120_000,
}, async () => {
  const manifest = path.join(dir, 'thermometer.yaml');
  writeFileSync(manifest, acceptanceManifest('virtual-thermometer.yaml', NODE));
  await kubectl(kubeconfig, ['apply', '-f', manifest]);
  // The edge holds the device once the desired setpoint it was sent shows as observed in the cloud.
  await waitFor(async () => (await status()).twins?.find((t) => t.propertyName === 'setpoint')?.observedDesired?.value === '21', 30_000);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
  try {
    await c.publishAsync(
      '$hw/events/device/default/thermo-1/twin/update',
      JSON.stringify({ event_id: 'e1', timestamp: Date.now(), twin: { temperature: { actual: { value: '22' }, metadata: { type: 'int' } } } }),
    );
    await c.publishAsync('$hw/events/device/default/thermo-1/state/update', JSON.stringify({ event_id: 'e2', timestamp: Date.now(), state: 'online' }));
  } finally {
    await c.endAsync();
  }
  const s = await waitFor(async () => {
    const got = await status();
    return got.twins?.find((t) => t.propertyName === 'temperature')?.reported?.value === '22' && got.state === 'online' ? got : undefined;
  }, 30_000);
  assert.match(s?.lastOnlineTime ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  await kubectl(kubeconfig, [
    'patch',
    'device',
    'thermo-1',
    '-n',
    'default',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/properties/1/desired/value","value":"25"}]',
  ]);
  await waitFor(async () => (await status()).twins?.find((t) => t.propertyName === 'setpoint')?.observedDesired?.value === '25', 30_000);
});
