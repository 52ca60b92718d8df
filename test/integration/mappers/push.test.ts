import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import { logger } from '../../../src/core/log.ts';
import { DeviceRunner } from '../../../src/mappers/lib/device-runner.ts';
import { Publisher, type PushRecord } from '../../../src/mappers/lib/publish.ts';
import type { MapperDevice, PushMethod } from '../../../src/mappers/lib/types.ts';
import { virtualDriver } from '../../../src/mappers/virtual/driver.ts';
import { bindablePort, skipUnless, waitFor } from '../../helpers/tools.ts';

const log = logger('push-test');
const dir = mkdtempSync(join(tmpdir(), 'mapper-push-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** mosquitto from PATH (Debian puts it in sbin, which a non-root PATH may lack). */
const MOSQUITTO = spawnSync('sh', ['-c', 'PATH="$PATH:/usr/local/sbin:/usr/sbin" command -v mosquitto'], { encoding: 'utf8' }).stdout.trim();

function device(pushMethod: PushMethod, reportToCloud: boolean): MapperDevice {
  return {
    name: 'thermo-push',
    model: 'm',
    protocol: 'virtual',
    protocolConfig: { seed: 3 },
    properties: [
      {
        name: 'temperature',
        type: 'int',
        accessMode: 'ReadOnly',
        visitor: { generator: 'random', min: 10, max: 12 },
        desired: '',
        collectCycleMs: 100,
        reportCycleMs: 200,
        reportToCloud,
        pushMethod,
      },
    ],
  };
}

test('pushMethod http: each report is POSTed as JSON to hostname:port/requestpath; reportToCloud false keeps edgecore out of it', async () => {
  const got: PushRecord[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/ingest') got.push(JSON.parse(body) as PushRecord);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const publisher = new Publisher(log);
  const toEdgecore: string[] = [];
  const runner = new DeviceRunner(
    device({ http: { hostname: '127.0.0.1', port, requestpath: '/ingest', timeout: 2000 } }, false),
    virtualDriver,
    async (name) => {
      toEdgecore.push(name);
    },
    publisher,
    log,
  );
  try {
    runner.start();
    await waitFor(async () => got.length >= 2, 10_000, 50);
    const r = got[0];
    assert.equal(r?.deviceName, 'thermo-push');
    assert.equal(r?.propertyName, 'temperature');
    assert.ok(['10', '11', '12'].includes(r?.value ?? ''), `value ${r?.value}`);
    assert.equal(typeof r?.timestamp, 'number');
    assert.deepEqual(toEdgecore, []);
  } finally {
    await runner.stop();
    await publisher.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('pushMethod mqtt: each report is published to the topic on the broker (a private mosquitto), as well as reported to edgecore', {
  skip: skipUnless(MOSQUITTO !== '' && existsSync(MOSQUITTO), 'mosquitto'),
}, async () => {
  const port = await bindablePort(0);
  assert.ok(port !== undefined);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
  const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const publisher = new Publisher(log);
  const toEdgecore: string[] = [];
  let sub: mqtt.MqttClient | undefined;
  let runner: DeviceRunner | undefined;
  try {
    sub = await waitFor(() => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 }), 10_000, 200);
    const got: PushRecord[] = [];
    sub.on('message', (_t, payload) => got.push(JSON.parse(payload.toString()) as PushRecord));
    await sub.subscribeAsync('factory/thermo');
    runner = new DeviceRunner(
      device({ mqtt: { address: `mqtt://127.0.0.1:${port}`, topic: 'factory/thermo', qos: 1, retained: false } }, true),
      virtualDriver,
      async (name) => {
        toEdgecore.push(name);
      },
      publisher,
      log,
    );
    runner.start();
    await waitFor(async () => got.length >= 2, 10_000, 50);
    assert.equal(got[0]?.propertyName, 'temperature');
    assert.ok(toEdgecore.length > 0, 'reportToCloud: also reported to edgecore');
  } finally {
    await runner?.stop();
    await publisher.close();
    await sub?.endAsync(true);
    broker.kill('SIGTERM');
  }
});
