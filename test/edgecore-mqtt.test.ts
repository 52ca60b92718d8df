import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { runBin, startDaemon, tailLogsOnFailure } from './helpers/daemon.ts';
import { freePort, mosquittoAvailable, mosquittoSub, waitPort } from './helpers/mqtt.ts';
import { skipUnless, waitFor } from './helpers/tools.ts';

function writeConfig(dir: string, node: string, port: number): string {
  const cfg = path.join(dir, `${node}.yaml`);
  writeFileSync(
    cfg,
    [
      'apiVersion: edgecore.config.kubeedge.io/v1alpha2',
      'kind: EdgeCore',
      'database:',
      `  dataSource: ${path.join(dir, node, 'edgecore.db')}`,
      'modules:',
      '  metrics: {bindAddress: 127.0.0.1:0}',
      '  edged:',
      '    enable: false',
      `    hostnameOverride: ${node}`,
      '  edgeHub:',
      '    enable: false',
      '  deviceTwin:',
      `    dmiSockPath: ${path.join(dir, node, 'dmi.sock')}`,
      '  eventBus:',
      '    mqttMode: 0',
      `    mqttServerInternal: tcp://127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  return cfg;
}

test('edgecore with a taken MQTT port (mqttMode 0) stops at start with one clear line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgecore-mqtt-'));
  const port = await freePort();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  try {
    const r = await runBin('edgecore', ['--config', writeConfig(dir, 'mqtt-port-test', port)], { CHECK_EDGECORE_ENVIRONMENT: 'false', LOG_LEVEL: 'silent' });
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('edgecore: '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? '',
      new RegExp(`^edgecore: MQTT port 127\\.0\\.0\\.1:${port} \\(modules\\.eventBus\\.mqttServerInternal\\) is in use by another process`),
    );
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edgecore serves MQTT on its embedded broker: the twin answers membership/get and refuses an update for an unknown device with 404', {
  skip: skipUnless(mosquittoAvailable(), 'mosquitto-clients'),
}, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgecore-mqtt-'));
  const port = await freePort();
  const node = 'mqtt-edge';
  const edge = startDaemon('edgecore', ['--config', writeConfig(dir, node, port)], path.join(dir, 'edgecore.log'), { CHECK_EDGECORE_ENVIRONMENT: 'false' });
  const tail = tailLogsOnFailure(t, [edge.logFile]);
  try {
    await waitPort(port, 30_000);
    const sub = await mosquittoSub(port, '$hw/events/#', '$hw/events/probe');
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    await c.publishAsync(`$hw/events/node/${node}/membership/get`, JSON.stringify({ event_id: 'm1', timestamp: Date.now() }));
    await c.publishAsync(
      '$hw/events/device/default/ghost/twin/update',
      JSON.stringify({ event_id: 'u1', timestamp: Date.now(), twin: { t: { actual: { value: '1' } } } }),
    );
    await c.endAsync();
    const find = (topic: string) => sub.lines.find((l) => l.startsWith(`${topic} `));
    await waitFor(
      async () =>
        find(`$hw/events/node/${node}/membership/get/result`) !== undefined && find('$hw/events/device/default/ghost/twin/update/result') !== undefined,
      15_000,
      50,
    );
    sub.stop();
    const members = JSON.parse(find(`$hw/events/node/${node}/membership/get/result`)?.split(' ').slice(1).join(' ') ?? '{}') as {
      event_id: string;
      devices: unknown[];
    };
    assert.deepEqual([members.event_id, members.devices], ['m1', []]);
    const refused = JSON.parse(find('$hw/events/device/default/ghost/twin/update/result')?.split(' ').slice(1).join(' ') ?? '{}') as {
      event_id: string;
      code: number;
    };
    assert.deepEqual([refused.event_id, refused.code], ['u1', 404]);
    tail();
  } finally {
    await edge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
