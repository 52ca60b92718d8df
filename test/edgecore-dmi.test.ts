// The DMI server inside edgecore: it runs with DeviceTwin (as in KubeEdge, where it is part of devicetwin), serves
// mappers on modules.deviceTwin.dmiSockPath, and a socket path it cannot bind stops edgecore with one clear line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { call, dmiClient } from '../src/edge/dmi/api/grpc.ts';
import { runBin, startDaemon } from './helpers/daemon.ts';
import { bindablePort, waitFor } from './helpers/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-edgecore-dmi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function config(name: string, dmiSockPath: string): Promise<string> {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  const file = path.join(d, 'edgecore.yaml');
  const mqtt = await bindablePort(0);
  writeFileSync(
    file,
    `database:
  dataSource: ${d}/edgecore.db
modules:
  metrics: {bindAddress: 127.0.0.1:0}
  edged: {enable: false, hostnameOverride: dmi-edge}
  edgeHub: {enable: false}
  deviceTwin: {enable: true, dmiSockPath: ${dmiSockPath}}
  eventBus: {enable: true, mqttMode: 0, mqttServerInternal: "tcp://127.0.0.1:${mqtt}"}
`,
  );
  return file;
}

test('edgecore with deviceTwin serves DMI on dmiSockPath: a mapper can register there', { timeout: 120_000 }, async () => {
  const sock = path.join(dir, 'ok', 'dmi', 'dmi.sock');
  const edge = startDaemon('edgecore', ['--config', await config('ok', sock)], path.join(dir, 'ok.log'));
  const client = dmiClient('DeviceManagerService', sock);
  try {
    const res = await waitFor(
      () =>
        call<{ deviceList: unknown[] }>(client, 'MapperRegister', {
          withData: true,
          mapper: { name: 'probe', version: 't', api_version: 'v1beta1', protocol: 'virtual', address: Buffer.from(path.join(dir, 'probe.sock')), state: 'OK' },
        }),
      60_000,
    );
    assert.deepEqual(res.deviceList, []);
  } finally {
    client.close();
    await edge.stop();
  }
});

test('a dmiSockPath edgecore cannot bind stops it with one line naming the path and the key', { timeout: 120_000 }, async () => {
  const blocker = path.join(dir, 'blocked-file');
  writeFileSync(blocker, 'not a socket');
  const r = await runBin('edgecore', ['--config', await config('bad', blocker)]);
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('edgecore: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', new RegExp(`DMI server cannot listen on ${blocker.replaceAll('/', '\\/')}.*modules\\.deviceTwin\\.dmiSockPath`));
});
